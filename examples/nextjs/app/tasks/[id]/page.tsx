"use client";

import Link from "next/link";
import { useParams } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { type ApiError, type NewTask, type Task, type TaskList, api, errorMessage } from "@/lib/api";
import { TaskForm } from "../task-form";
import { useSignedIn } from "../use-signed-in";

type Loaded = { task: Task; etag: string };

/** One task, edited with If-Match so an edit made elsewhere in the meantime is never overwritten. */
export default function TaskPage() {
  const id = Number(useParams<{ id: string }>().id);
  const { user, problem } = useSignedIn();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [current, setCurrent] = useState<Loaded | null>(null);
  const [lists, setLists] = useState<TaskList[] | null>(null);

  const load = useCallback(async () => {
    const listed = await api.GET("/api/lists", { params: { query: { limit: 100 } } });
    if (listed.data) setLists(listed.data);
    const { data, error, response } = await api.GET("/api/tasks/{id}", { params: { path: { id } } });
    if (response.status === 404) return setMissing(true);
    if (!data) return setError(errorMessage(error, response));
    setLoaded({ task: data, etag: response.headers.get("ETag") ?? "" });
  }, [id]);

  const userId = user?.id;
  useEffect(() => {
    if (userId) void load();
  }, [userId, load]);

  async function save(changes: NewTask): Promise<ApiError | null> {
    if (!loaded) return null;
    setNotice(null);
    const { data, error, response } = await api.PATCH("/api/tasks/{id}", {
      params: { path: { id }, header: { "If-Match": loaded.etag } },
      body: changes,
    });
    if (data) {
      setLoaded({ task: data, etag: response.headers.get("ETag") ?? "" });
      setCurrent(null);
      setNotice("Saved.");
      return null;
    }
    if (error && "current" in error) {
      // 412: someone saved first. Keep what was typed and show theirs next to it.
      setCurrent({ task: error.current, etag: response.headers.get("ETag") ?? "" });
      return null;
    }
    return error ?? null;
  }

  if (missing)
    return (
      <>
        <h1>Task not found</h1>
        <p id="not-found">There is no such task among yours.</p>
        <Link href="/tasks">Back to your tasks</Link>
      </>
    );
  if (problem || (error && !loaded))
    return (
      <p className="error" role="alert">
        {problem ?? error}
      </p>
    );
  if (!user || !loaded) return <p className="muted">Loading…</p>;
  return (
    <>
      <header>
        <h1>Edit task</h1>
        <Link href="/tasks">Back to your tasks</Link>
      </header>
      {current && (
        <div className="notice" id="conflict" role="alert">
          <p>
            <strong>This task changed elsewhere</strong> since you opened it; nothing was saved. Its current
            version:
          </p>
          <p id="current-title">
            {current.task.title}
            {current.task.description && ` — ${current.task.description}`}
          </p>
          <button
            type="button"
            onClick={() => {
              setLoaded(current);
              setCurrent(null);
            }}
          >
            Edit the current version
          </button>
        </div>
      )}
      {notice && <p id="notice">{notice}</p>}
      {error && <p className="error">{error}</p>}
      <TaskForm key={loaded.etag} task={loaded.task} lists={lists ?? undefined} submitLabel="Save" onSubmit={save} />
    </>
  );
}
