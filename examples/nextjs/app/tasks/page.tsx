"use client";

import Link from "next/link";
import { useCallback, useEffect, useState } from "react";
import { type ApiError, type NewTask, type Task, type TaskList, api, errorMessage, pageLinks } from "@/lib/api";
import { ListsSidebar, type Shown } from "./lists-sidebar";
import { REPEATS, TaskForm, localDateTime } from "./task-form";
import { useSignedIn } from "./use-signed-in";

const PAGE_SIZE = 10;
const STATUSES = ["all", "pending", "completed"] as const;

type Page = { tasks: Task[]; total: number; next?: number; prev?: number };

/** The signed-in user's tasks: their lists, one page of the tasks shown, a status filter, and a
 * form to add one. */
export default function TasksPage() {
  const { user, problem, signOut } = useSignedIn();
  const [lists, setLists] = useState<TaskList[]>([]);
  const [shown, setShown] = useState<Shown>("all");
  const [status, setStatus] = useState<(typeof STATUSES)[number]>("all");
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<Page | null>(null);
  // The manual order (sort=position) instead of newest first; reordering needs one list shown.
  const [manual, setManual] = useState(false);
  const [subtasks, setSubtasks] = useState<Record<number, Task[]>>({});
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async () => {
    const [tasks, listed] = await Promise.all([
      api.GET("/api/tasks", {
        params: {
          query: {
            status,
            limit: PAGE_SIZE,
            offset,
            parent: "none", // subtasks show under their parent
            ...(manual && { sort: "position" }),
            ...(shown !== "all" && { list: [String(shown)] }),
          },
        },
      }),
      api.GET("/api/lists", { params: { query: { limit: 100 } } }),
    ]);
    if (listed.data) setLists(listed.data);
    const { data, error, response } = tasks;
    if (!data) return setError(errorMessage(error, response));
    setError(null);
    const total = Number(response.headers.get("X-Total-Count") ?? data.length);
    const parents = data.filter((task) => task.subtask_count > 0);
    const steps = await Promise.all(
      parents.map((task) =>
        api.GET("/api/tasks", { params: { query: { parent: String(task.id), sort: "position", limit: 100 } } }),
      ),
    );
    setSubtasks(Object.fromEntries(parents.map((task, i) => [task.id, steps[i]!.data ?? []])));
    setPage({ tasks: data, total, ...pageLinks(response.headers.get("Link")) });
  }, [status, offset, shown, manual]);

  const userId = user?.id;
  useEffect(() => {
    if (userId) void load();
  }, [userId, load]);

  async function create(task: NewTask): Promise<ApiError | null> {
    const { data, error } = await api.POST("/api/tasks", {
      body: task,
      // A retried request (a flaky network, the token refresh) creates the task only once.
      params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    });
    if (!data) return error ?? null;
    await load();
    return null;
  }

  async function toggle(task: Task) {
    const { data, error, response } = await api.PATCH("/api/tasks/{id}/complete", {
      params: { path: { id: task.id } },
    });
    if (!response.ok) setError(errorMessage(error, response));
    // The answer names the occurrence a recurring task's completion created.
    const following = data?.next_occurrence;
    setNotice(following ? `Next: ${following.title}, ${dueText(following)}` : null);
    await load();
  }

  /** Puts `task` just before or after its neighbour on the page (the manual order). */
  async function move(task: Task, place: { before: number } | { after: number }) {
    const { error, response } = await api.POST("/api/tasks/{id}/move", {
      params: { path: { id: task.id } },
      body: place,
    });
    if (!response.ok) setError(errorMessage(error, response));
    await load();
  }

  async function addSubtask(parent: Task, title: string) {
    const { error, response } = await api.POST("/api/tasks", {
      body: { title, parent_id: parent.id },
      params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    });
    if (!response.ok) setError(errorMessage(error, response));
    await load();
  }

  async function remove(task: Task) {
    const { error, response } = await api.DELETE("/api/tasks/{id}", { params: { path: { id: task.id } } });
    if (!response.ok) setError(errorMessage(error, response));
    await load();
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
        onChanged={load}
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
                  subtasks={subtasks[task.id] ?? []}
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

/** When a task is due, in the browser's time zone: `2030-03-11 09:00`, or `2030-03-11 (all day)`. */
function dueText(task: Task): string {
  if (task.due_date) return `${task.due_date} (all day)`;
  return localDateTime(task.due_at)?.replace("T", " ") ?? "";
}

function repeatText(rule: string): string {
  return REPEATS.find(([, preset]) => preset === rule)?.[0] ?? rule;
}
