// The todo API's typed client. Types come from the API's committed openapi.yaml
// (`npm run generate`, run before every build and dev server).
import createClient from "openapi-fetch";
import type { components, paths } from "./api.d";
import { TokenUnavailable, apiToken } from "./token";

export type Task = components["schemas"]["Task"];
export type NewTask = components["schemas"]["NewTaskRequest"];
export type ApiError = components["schemas"]["Error"];
export type TaskList = components["schemas"]["TaskList"];

export const API_URL = process.env.NEXT_PUBLIC_API_URL ?? "http://127.0.0.1:8000";

// Every call carries the user's token. A 401 means the API no longer accepts it (it expired, or
// the clocks disagree): fetch a fresh token and try once more.
// When Better Auth cannot issue a token, the call fails with its reason, in the API's error
// shape, so the page shows it like any other error.
async function fetchWithToken(request: Request): Promise<Response> {
  try {
    const retry = request.clone();
    request.headers.set("Authorization", `Bearer ${await apiToken()}`);
    const response = await fetch(request);
    if (response.status !== 401) return response;
    retry.headers.set("Authorization", `Bearer ${await apiToken({ fresh: true })}`);
    return await fetch(retry);
  } catch (problem) {
    if (!(problem instanceof TokenUnavailable)) throw problem;
    const body = JSON.stringify({ code: "token_unavailable", message: problem.message });
    return new Response(body, { status: 503, headers: { "Content-Type": "application/json" } });
  }
}

export const api = createClient<paths>({ baseUrl: API_URL, fetch: fetchWithToken });

/** What the API said went wrong, for people: its message, or the status when it sent none. */
export function errorMessage(error: ApiError | undefined, response: Response): string {
  return error?.message ?? `The API answered ${response.status}.`;
}
