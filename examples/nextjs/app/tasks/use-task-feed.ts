"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { type Task, type TaskList, api, errorMessage } from "@/lib/api";

// How often a page in view asks for other tabs' and devices' changes; a hidden tab does not
// ask, and asks at once when it is shown or focused again.
const POLL_MS = 2_000;

/**
 * The signed-in user's tasks and lists, kept in step with the API through its change feed
 * (`GET /api/changes`): a snapshot on the first call, then only what changed after the cursor,
 * deletions included (and a list whose counts changed). The cursor lives in memory; a 410 (a
 * cursor too old) starts again.
 */
export function useTaskFeed(enabled: boolean) {
  const tasks = useRef(new Map<number, Task>());
  const lists = useRef(new Map<number, TaskList>());
  const cursor = useRef<string | undefined>(undefined);
  const running = useRef<Promise<void> | null>(null);
  const [snapshot, setSnapshot] = useState<Task[] | null>(null);
  const [listsSnapshot, setListsSnapshot] = useState<TaskList[]>([]);
  const [error, setError] = useState<string | null>(null);

  const pull = useCallback(async () => {
    for (;;) {
      const { data, error, response } = await api.GET("/api/changes", {
        params: { query: cursor.current === undefined ? {} : { cursor: cursor.current } },
      });
      if (response.status === 410) {
        tasks.current.clear();
        lists.current.clear();
        cursor.current = undefined;
        continue;
      }
      if (!data) return setError(errorMessage(error, response));
      setError(null);
      for (const task of data.tasks) tasks.current.set(task.id, task);
      for (const id of data.deleted.tasks) tasks.current.delete(id);
      for (const list of data.lists) lists.current.set(list.id, list);
      for (const id of data.deleted.lists) lists.current.delete(id);
      const first = cursor.current === undefined;
      cursor.current = data.next_cursor;
      if (first || data.tasks.length > 0 || data.deleted.tasks.length > 0)
        setSnapshot(newestFirst([...tasks.current.values()]));
      if (first || data.lists.length > 0 || data.deleted.lists.length > 0)
        setListsSnapshot([...lists.current.values()].sort((a, b) => a.position - b.position || a.id - b.id));
      if (!data.has_more) return;
    }
  }, []);

  /** Brings the tasks up to date; calls made while one runs wait for it and run once more. */
  const sync = useCallback(async () => {
    const previous = running.current;
    const next = (async () => {
      await previous;
      await pull();
    })();
    running.current = next;
    await next;
  }, [pull]);

  useEffect(() => {
    if (!enabled) return;
    const inView = () => document.visibilityState === "visible";
    const whenInView = () => void (inView() && sync());
    void sync();
    const timer = setInterval(whenInView, POLL_MS);
    window.addEventListener("focus", whenInView);
    document.addEventListener("visibilitychange", whenInView);
    return () => {
      clearInterval(timer);
      window.removeEventListener("focus", whenInView);
      document.removeEventListener("visibilitychange", whenInView);
    };
  }, [enabled, sync]);

  return { tasks: snapshot, lists: listsSnapshot, error, sync };
}

/** The API's default order: newest first, the id breaking ties. */
function newestFirst(tasks: Task[]): Task[] {
  return tasks.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id);
}
