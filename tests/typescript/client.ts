// A small typed client for the Todo API, written the way a Next.js frontend would write it.
// `api.d.ts` is generated from the committed openapi.yaml (tests/test_typescript_client.py), so
// a change to the schema that breaks a frontend breaks this file's compilation first.
import createClient from "openapi-fetch";
import type { components, paths } from "./api";

export type Task = components["schemas"]["Task"];
export type CompletedTask = components["schemas"]["CompletedTask"];
export type NewTask = components["schemas"]["TaskRequest"];
export type TaskChanges = components["schemas"]["PatchedTaskRequest"];
export type Stats = components["schemas"]["Stats"];
export type BulkResult = components["schemas"]["BulkResult"];
export type ApiError = components["schemas"]["Error"];
export type TaskFilters = NonNullable<paths["/api/tasks"]["get"]["parameters"]["query"]>;
export type Changes = components["schemas"]["Changes"];
export type TaskList = components["schemas"]["TaskList"];

export function todoClient(baseUrl: string, token: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
}

type Client = ReturnType<typeof todoClient>;

function fail(error: ApiError | undefined, response: Response): never {
  throw new Error(error ? `${error.code}: ${error.message}` : `HTTP ${response.status}`);
}

/** One page of tasks and how many match over all pages. */
export async function listTasks(api: Client, filters: TaskFilters): Promise<{ tasks: Task[]; total: number }> {
  const { data, error, response } = await api.GET("/api/tasks", { params: { query: filters } });
  if (!data) fail(error, response);
  return { tasks: data, total: Number(response.headers.get("X-Total-Count") ?? data.length) };
}

export async function createTask(api: Client, task: NewTask, idempotencyKey: string): Promise<Task> {
  const { data, error, response } = await api.POST("/api/tasks", {
    body: task,
    params: { header: { "Idempotency-Key": idempotencyKey } },
  });
  if (!data) fail(error, response);
  return data;
}

/** Changes only the fields given; refused with a 412 when the task changed since `etag` was read. */
export async function patchTask(api: Client, id: number, changes: TaskChanges, etag: string): Promise<Task> {
  const { data, error, response } = await api.PATCH("/api/tasks/{id}", {
    params: { path: { id }, header: { "If-Match": etag } },
    body: changes,
  });
  if (!data) fail(error, response);
  return data;
}

/** The task toggled, and the next occurrence that completing it created (or null). */
export async function toggleTask(api: Client, id: number): Promise<CompletedTask> {
  const { data, error, response } = await api.PATCH("/api/tasks/{id}/complete", {
    params: { path: { id } },
  });
  if (!data) fail(error, response);
  return data;
}

export async function completeAll(api: Client, ids: number[]): Promise<BulkResult> {
  const { data, error, response } = await api.POST("/api/tasks/bulk", { body: { action: "complete", ids } });
  if (!data) fail(error, response);
  return data;
}

export async function stats(api: Client, tz: string): Promise<Stats> {
  const { data, error, response } = await api.GET("/api/tasks/stats", { params: { query: { tz } } });
  if (!data) fail(error, response);
  return data;
}

/** A client cache kept by the change feed: the tasks and lists by id and where the next sync starts. */
export type SyncedTasks = { tasks: Map<number, Task>; lists: Map<number, TaskList>; cursor?: string };

/** Applies every change after the cache's cursor (a snapshot without one); 410 means start again. */
export async function sync(api: Client, cache: SyncedTasks): Promise<SyncedTasks> {
  for (;;) {
    const { data, error, response } = await api.GET("/api/changes", {
      params: { query: cache.cursor === undefined ? { limit: 500 } : { cursor: cache.cursor, limit: 500 } },
    });
    if (response.status === 410) return sync(api, { tasks: new Map(), lists: new Map() });
    if (!data) fail(error, response);
    const page: Changes = data;
    for (const task of page.tasks) cache.tasks.set(task.id, task);
    for (const id of page.deleted.tasks) cache.tasks.delete(id);
    for (const list of page.lists) cache.lists.set(list.id, list);
    for (const id of page.deleted.lists) cache.lists.delete(id);
    cache = { ...cache, cursor: page.next_cursor };
    if (!page.has_more) return cache;
  }
}

// What a page does with it: the types must line up without a single cast.
export async function example(api: Client): Promise<string> {
  const { tasks, total } = await listTasks(api, {
    status: "pending",
    priority: ["high", "medium"],
    tag: ["home"],
    due_before: "2026-02-01T00:00:00Z",
    tz: "America/New_York",
    sort: "priority,due_date",
    limit: 20,
  });
  const created = await createTask(
    api,
    {
      title: "Water plants",
      priority: "low",
      tags: ["home"],
      due_at: "2026-01-05T09:00:00Z",
      due_timezone: "Europe/Berlin",
      recurrence: "FREQ=WEEKLY",
    },
    "create-water-plants-1",
  );
  await createTask(api, { title: "Pay rent", due_date: "2026-01-31", recurrence: "FREQ=MONTHLY" }, "create-rent-1");
  const renamed = await patchTask(api, created.id, { title: "Water the plants", due_at: null }, `"${created.id}-1"`);
  const toggled = await toggleTask(api, renamed.id);
  const next: Task | null = toggled.next_occurrence;
  const done: BulkResult = await completeAll(api, tasks.map((task) => task.id));
  const counts = await stats(api, "Europe/Paris");
  const synced = await sync(api, await sync(api, { tasks: new Map(), lists: new Map() }));
  const completedAt: string | null = toggled.completed_at;
  const nextDue = next ? (next.due_at ?? next.due_date) : null;
  return `${total} shown, ${done.changed} completed (${done.created.length} next, ${done.removed.length} removed), ${counts.pending} pending, ${synced.tasks.size} synced, last at ${completedAt ?? "never"}, next ${nextDue ?? "none"}`;
}
