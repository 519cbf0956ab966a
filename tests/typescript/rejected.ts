// Bodies the API refuses must not compile either: each line below is a type error, and tsc fails
// on an `@ts-expect-error` that has no error to expect (tests/test_typescript_client.py).
import type { paths } from "./api";
import type { NewTask, TaskChanges } from "./client";

// @ts-expect-error: a task needs a title
export const untitled: NewTask = {};
// @ts-expect-error: priorities are none, low, medium or high
export const urgent: NewTask = { title: "Pay rent", priority: "urgent" };
// @ts-expect-error: `completed` is a boolean
export const completedAsNumber: NewTask = { title: "Pay rent", completed: 1 };
// @ts-expect-error: unknown fields are refused
export const misspelt: TaskChanges = { titel: "Pay rent" };
// @ts-expect-error: a task id is a number
export const stringId: paths["/api/tasks/{id}"]["get"]["parameters"]["path"]["id"] = "42";
