"use client";

import { type FormEvent, useState } from "react";
import type { ApiError, NewTask, Task, TaskList } from "@/lib/api";

const PRIORITIES = ["none", "low", "medium", "high"] as const;

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

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const values = new FormData(form);
    const due = String(values.get("due_at"));
    setBusy(true);
    const failure = await onSubmit({
      title: String(values.get("title")),
      description: String(values.get("description")),
      priority: String(values.get("priority")) as NewTask["priority"],
      tags: String(values.get("tags"))
        .split(",")
        .map((tag) => tag.trim())
        .filter(Boolean),
      due_at: due ? new Date(due).toISOString() : null,
      ...(lists && { list_id: values.get("list_id") ? Number(values.get("list_id")) : null }),
    });
    setBusy(false);
    setError(failure);
    if (!failure && !task) form.reset();
  }

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
        Due <input name="due_at" type="datetime-local" defaultValue={localDateTime(task?.due_at)} />
        <FieldErrors error={error} field="due_at" />
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

/** An RFC 3339 datetime as the value of a datetime-local input, in the browser's time zone. */
function localDateTime(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
