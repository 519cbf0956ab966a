"use client";

import Link from "next/link";
import { useState } from "react";
import { type ApiError, type NewTask, type Task, api, errorMessage } from "@/lib/api";
import { ListsSidebar, type Shown } from "./lists-sidebar";
import { REPEATS, TaskForm, localDateTime } from "./task-form";
import { useSignedIn } from "./use-signed-in";
import { useTaskFeed } from "./use-task-feed";

const PAGE_SIZE = 10;
const STATUSES = ["all", "pending", "completed"] as const;

type Page = { tasks: Task[]; total: number; next?: number; prev?: number };

/** Tasks in the manual order (`position`, then id), as `sort=position` lists them. */
function inManualOrder(tasks: Task[]): Task[] {
  return [...tasks].sort((a, b) => a.position - b.position || a.id - b.id);
}

/** One page of the top-level tasks shown (all, the inbox's or one list's) with this status,
 * newest first or in the manual order; subtasks show under their parent. */
function pageOf(
  tasks: Task[],
  shown: Shown,
  status: (typeof STATUSES)[number],
  offset: number,
  manual: boolean,
): Page {
  const filtered = tasks.filter(
    (task) =>
      task.parent_id === null &&
      (status === "all" || task.completed === (status === "completed")) &&
      (shown === "all" || task.list_id === (shown === "none" ? null : shown)),
  );
  const matches = manual ? inManualOrder(filtered) : filtered;
  const start = Math.min(offset, Math.max(0, Math.ceil(matches.length / PAGE_SIZE) - 1) * PAGE_SIZE);
  return {
    tasks: matches.slice(start, start + PAGE_SIZE),
    total: matches.length,
    ...(start + PAGE_SIZE < matches.length ? { next: start + PAGE_SIZE } : {}),
    ...(start > 0 ? { prev: Math.max(0, start - PAGE_SIZE) } : {}),
  };
}

/**
 * The signed-in user's tasks: their lists, one page of the tasks shown, a status filter, and a
 * form to add one. The tasks and lists come from the API's change feed (useTaskFeed), so what
 * another tab or device changes shows up here within a few seconds, without reloading anything.
 */
export default function TasksPage() {
  const { user, problem, signOut } = useSignedIn();
  const [shown, setShown] = useState<Shown>("all");
  const [status, setStatus] = useState<(typeof STATUSES)[number]>("all");
  const [offset, setOffset] = useState(0);
  const [writeError, setWriteError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // The manual order instead of newest first; reordering needs one list (or the inbox) shown.
  const [manual, setManual] = useState(false);
  const feed = useTaskFeed(Boolean(user?.id));
  const lists = feed.lists;
  const page = feed.tasks && pageOf(feed.tasks, shown, status, offset, manual);
  const subtasksOf = (task: Task) => inManualOrder((feed.tasks ?? []).filter((t) => t.parent_id === task.id));
  const error = writeError ?? feed.error;

  /** After a write made here: what changed, from the feed (the write itself and its counts). */
  const refresh = feed.sync;

  async function create(task: NewTask): Promise<ApiError | null> {
    const { data, error } = await api.POST("/api/tasks", {
      body: task,
      // A retried request (a flaky network, the token refresh) creates the task only once.
      params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    });
    if (!data) return error ?? null;
    await refresh();
    return null;
  }

  async function toggle(task: Task) {
    const { data, error, response } = await api.PATCH("/api/tasks/{id}/complete", {
      params: { path: { id: task.id } },
    });
    setWriteError(response.ok ? null : errorMessage(error, response));
    // The answer names the occurrence a recurring task's completion created.
    const following = data?.next_occurrence;
    setNotice(following ? `Next: ${following.title}, ${dueText(following)}` : null);
    await refresh();
  }

  /** Puts `task` just before or after its neighbour on the page (the manual order). */
  async function move(task: Task, place: { before: number } | { after: number }) {
    const { error, response } = await api.POST("/api/tasks/{id}/move", {
      params: { path: { id: task.id } },
      body: place,
    });
    setWriteError(response.ok ? null : errorMessage(error, response));
    await refresh();
  }

  async function addSubtask(parent: Task, title: string) {
    const { error, response } = await api.POST("/api/tasks", {
      body: { title, parent_id: parent.id },
      params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    });
    setWriteError(response.ok ? null : errorMessage(error, response));
    await refresh();
  }

  async function remove(task: Task) {
    const { error, response } = await api.DELETE("/api/tasks/{id}", { params: { path: { id: task.id } } });
    setWriteError(response.ok ? null : errorMessage(error, response));
    await refresh();
  }

  if (problem)
    return (
      <p className="error" role="alert">
        {problem}
      </p>
    );
  if (!user) return <p className="muted">Loading…</p>;
  return (
    <>
      <header>
        <h1>{user.name}&rsquo;s tasks</h1>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>

      <ListsSidebar
        lists={lists}
        shown={shown}
        onShow={(next) => {
          setShown(next);
          setOffset(0);
        }}
        onChanged={refresh}
      />

      <label>
        Show{" "}
        <select
          name="status"
          value={status}
          onChange={(event) => {
            setStatus(event.target.value as typeof status);
            setOffset(0);
          }}
        >
          {STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>{" "}
      <label>
        <input type="checkbox" name="manual" checked={manual} onChange={(event) => setManual(event.target.checked)} />{" "}
        My order
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {notice && <p id="notice">{notice}</p>}

      {page && (
        <>
          <p className="muted" id="task-count">
            {page.total === 0 ? "No tasks." : `${page.total} task${page.total === 1 ? "" : "s"}`}
          </p>
          <ul className="tasks">
            {page.tasks.map((task, index) => (
              <li key={task.id} className={task.completed ? "done" : ""} data-task-id={task.id}>
                <input
                  type="checkbox"
                  aria-label={`Complete ${task.title}`}
                  checked={task.completed}
                  onChange={() => toggle(task)}
                />
                <span className="title">{task.title}</span>
                {(task.due_at || task.due_date) && (
                  <time className="due" dateTime={task.due_at ?? task.due_date ?? undefined}>
                    {dueText(task)}
                  </time>
                )}
                {task.recurrence && <span className="repeat muted">↻ {repeatText(task.recurrence)}</span>}
                <span className="muted">
                  {task.priority !== "none" && <span className="priority">{task.priority}</span>}{" "}
                  {task.tags?.map((tag) => `#${tag}`).join(" ")}
                </span>
                {task.description && <span className="description muted">{task.description}</span>}
                <Link href={`/tasks/${task.id}`}>Edit</Link>
                <button type="button" onClick={() => remove(task)}>
                  Delete
                </button>
                {manual && shown !== "all" && (
                  <>
                    <button
                      type="button"
                      className="up"
                      aria-label={`Move ${task.title} up`}
                      disabled={index === 0}
                      onClick={() => move(task, { before: page.tasks[index - 1]!.id })}
                    >
                      ↑
                    </button>
                    <button
                      type="button"
                      className="down"
                      aria-label={`Move ${task.title} down`}
                      disabled={index === page.tasks.length - 1}
                      onClick={() => move(task, { after: page.tasks[index + 1]!.id })}
                    >
                      ↓
                    </button>
                  </>
                )}
                <Subtasks
                  parent={task}
                  subtasks={subtasksOf(task)}
                  onToggle={toggle}
                  onAdd={(title) => addSubtask(task, title)}
                />
              </li>
            ))}
          </ul>
          <nav>
            <button type="button" disabled={page.prev === undefined} onClick={() => setOffset(page.prev ?? 0)}>
              Previous
            </button>{" "}
            <button type="button" disabled={page.next === undefined} onClick={() => setOffset(page.next ?? 0)}>
              Next
            </button>
          </nav>
        </>
      )}

      <h2>New task</h2>
      <TaskForm
        submitLabel="Add task"
        lists={lists}
        listId={typeof shown === "number" ? shown : null}
        onSubmit={create}
      />
    </>
  );
}

/** When a task is due, in the browser's time zone: `2030-03-11 09:00`, or `2030-03-11 (all day)`. */
function dueText(task: Task): string {
  if (task.due_date) return `${task.due_date} (all day)`;
  return localDateTime(task.due_at)?.replace("T", " ") ?? "";
}

function repeatText(rule: string): string {
  return REPEATS.find(([, preset]) => preset === rule)?.[0] ?? rule;
}

/** A task's subtasks, each checked off on its own, and a field to add one. */
function Subtasks({
  parent,
  subtasks,
  onToggle,
  onAdd,
}: {
  parent: Task;
  subtasks: Task[];
  onToggle: (task: Task) => Promise<void>;
  onAdd: (title: string) => Promise<void>;
}) {
  const [title, setTitle] = useState("");
  return (
    <div className="subtasks">
      {subtasks.length > 0 && (
        <ul>
          {subtasks.map((subtask) => (
            <li key={subtask.id} className={subtask.completed ? "done" : ""} data-subtask-id={subtask.id}>
              <input
                type="checkbox"
                aria-label={`Complete ${subtask.title}`}
                checked={subtask.completed}
                onChange={() => onToggle(subtask)}
              />
              <span className="subtask-title">{subtask.title}</span>
            </li>
          ))}
        </ul>
      )}
      <input
        name="subtask-title"
        aria-label={`New step of ${parent.title}`}
        placeholder="Add a step"
        value={title}
        onChange={(event) => setTitle(event.target.value)}
      />
      <button
        type="button"
        className="add-subtask"
        disabled={!title.trim()}
        onClick={async () => {
          await onAdd(title);
          setTitle("");
        }}
      >
        Add step
      </button>
    </div>
  );
}
