"use client";

import { type FormEvent, useState } from "react";
import type { ApiError, NewTask, Task, TaskList } from "@/lib/api";

const PRIORITIES = ["none", "low", "medium", "high"] as const;

/** The recurrence presets the form offers, as RFC 5545 rules. */
export const REPEATS: [label: string, rule: string][] = [
  ["daily", "FREQ=DAILY"],
  ["weekdays", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"],
  ["weekly", "FREQ=WEEKLY"],
  ["monthly", "FREQ=MONTHLY"],
];

/** The browser's IANA time zone: a timed due date recurs at the same local time in it. */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** The writable fields of a task as a form (its list too, when `lists` are given); shows the
 * API's message and each field's errors. */
export function TaskForm({
  task,
  lists,
  listId,
  submitLabel,
  onSubmit,
}: {
  task?: Task;
  lists?: TaskList[];
  listId?: number | null;
  submitLabel: string;
  onSubmit: (task: NewTask) => Promise<ApiError | null>;
}) {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [allDay, setAllDay] = useState(Boolean(task?.due_date));

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const values = new FormData(form);
    const due = String(values.get(allDay ? "due_date" : "due_at") ?? "");
    const timed = !allDay && due !== "";
    setBusy(true);
    const failure = await onSubmit({
      title: String(values.get("title")),
      description: String(values.get("description")),
      priority: String(values.get("priority")) as NewTask["priority"],
      tags: String(values.get("tags"))
        .split(",")
        .map((tag) => tag.trim())
        .filter(Boolean),
      // One of the two, the other null: a task is due at a moment or on a day.
      due_at: timed ? new Date(due).toISOString() : null,
      due_date: allDay && due ? due : null,
      due_timezone: timed ? browserTimeZone() : null,
      recurrence: String(values.get("recurrence")) || null,
      ...(lists && { list_id: values.get("list_id") ? Number(values.get("list_id")) : null }),
    });
    setBusy(false);
    setError(failure);
    if (!failure && !task) {
      form.reset();
      setAllDay(false);
    }
  }

  const rule = task?.recurrence ?? "";
  const custom = rule && !REPEATS.some(([, preset]) => preset === rule);
  return (
    <form onSubmit={submit} noValidate>
      <label>
        Title <input name="title" defaultValue={task?.title} />
        <FieldErrors error={error} field="title" />
      </label>
      <label>
        Description <textarea name="description" defaultValue={task?.description} rows={2} />
        <FieldErrors error={error} field="description" />
      </label>
      <label>
        Priority
        <select name="priority" defaultValue={task?.priority ?? "none"}>
          {PRIORITIES.map((priority) => (
            <option key={priority}>{priority}</option>
          ))}
        </select>
        <FieldErrors error={error} field="priority" />
      </label>
      <label>
        Tags (comma-separated) <input name="tags" defaultValue={task?.tags?.join(", ")} />
        <FieldErrors error={error} field="tags" />
      </label>
      {lists && (
        <label>
          List
          <select name="list_id" key={listId ?? ""} defaultValue={String(task?.list_id ?? listId ?? "")}>
            <option value="">Inbox</option>
            {lists.map((list) => (
              <option key={list.id} value={list.id}>
                {list.name}
              </option>
            ))}
          </select>
          <FieldErrors error={error} field="list_id" />
        </label>
      )}
      <label>
        <input
          name="all_day"
          type="checkbox"
          checked={allDay}
          onChange={(event) => setAllDay(event.currentTarget.checked)}
        />{" "}
        All day
      </label>
      {allDay ? (
        <label>
          Due on <input name="due_date" type="date" defaultValue={task?.due_date ?? undefined} />
          <FieldErrors error={error} field="due_date" />
        </label>
      ) : (
        <label>
          Due <input name="due_at" type="datetime-local" defaultValue={localDateTime(task?.due_at)} />
          <FieldErrors error={error} field="due_at" />
        </label>
      )}
      <label>
        Repeat
        <select name="recurrence" defaultValue={rule}>
          <option value="">never</option>
          {REPEATS.map(([label, preset]) => (
            <option key={preset} value={preset}>
              {label}
            </option>
          ))}
          {custom && <option value={rule}>{rule}</option>}
        </select>
        <FieldErrors error={error} field="recurrence" />
      </label>
      {error && (
        <p className="error" role="alert">
          {error.message}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}

function FieldErrors({ error, field }: { error: ApiError | null; field: string }) {
  // `tags.3` is an error about one tag: show it under the tags.
  const messages = Object.entries(error?.fields ?? {})
    .filter(([name]) => name.split(".")[0] === field)
    .flatMap(([, errors]) => errors.map((e) => e.message));
  if (messages.length === 0) return null;
  return <span className="error field-error">{messages.join(" ")}</span>;
}

/** An RFC 3339 datetime as the value of a datetime-local input (`2030-03-11T09:00`), in the browser's time zone. */
export function localDateTime(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
