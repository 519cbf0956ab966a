"use client";

import { useState } from "react";
import { type TaskList, api, errorMessage } from "@/lib/api";

/** Which tasks the page shows: all of them, the inbox (tasks in no list) or one list's. */
export type Shown = "all" | "none" | number;

/** The signed-in user's lists: pick one to show its tasks, add, rename or delete (with a confirm). */
export function ListsSidebar({
  lists,
  shown,
  onShow,
  onChanged,
}: {
  lists: TaskList[];
  shown: Shown;
  onShow: (shown: Shown) => void;
  onChanged: () => Promise<void>;
}) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);

  async function create() {
    const { data, error, response } = await api.POST("/api/lists", {
      body: { name },
      params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    });
    if (!data) return setError(error?.fields?.name?.[0]?.message ?? errorMessage(error, response));
    setError(null);
    setName("");
    await onChanged();
  }

  async function rename(list: TaskList) {
    const newName = window.prompt(`Rename "${list.name}" to`, list.name);
    if (!newName || newName === list.name) return;
    const { error, response } = await api.PATCH("/api/lists/{id}", {
      params: { path: { id: list.id } },
      body: { name: newName },
    });
    setError(response.ok ? null : errorMessage(error, response));
    await onChanged();
  }

  async function remove(list: TaskList) {
    if (!window.confirm(`Delete "${list.name}" and its ${list.task_count} task(s)?`)) return;
    const { error, response } = await api.DELETE("/api/lists/{id}", { params: { path: { id: list.id } } });
    setError(response.ok ? null : errorMessage(error, response));
    if (shown === list.id) onShow("all");
    await onChanged();
  }

  const choice = (value: Shown, label: string) => (
    <button type="button" className={shown === value ? "shown" : ""} onClick={() => onShow(value)}>
      {label}
    </button>
  );
  return (
    <aside className="lists">
      <ul>
        <li>{choice("all", "All tasks")}</li>
        <li>{choice("none", "Inbox")}</li>
        {lists.map((list) => (
          <li key={list.id} data-list-id={list.id} data-list-name={list.name}>
            {choice(list.id, `${list.name} (${list.open_count})`)}
            <button type="button" className="rename" onClick={() => rename(list)}>
              Rename
            </button>
            <button type="button" className="delete" onClick={() => remove(list)}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      {/* Not a <form>: the page's one form is the task form. */}
      <div className="new-list">
        <input name="list-name" placeholder="New list" value={name} onChange={(e) => setName(e.target.value)} />
        <button type="button" id="add-list" onClick={create}>
          Add list
        </button>
      </div>
      {error && (
        <p className="error" id="list-error" role="status">
          {error}
        </p>
      )}
    </aside>
  );
}
