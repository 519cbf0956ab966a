// The end-to-end scenario: people using the example app in headless Chromium, against the real
// API. Each step checks what the page shows and what the API holds. scripts/e2e.sh starts the
// app and the API and runs this with APP_URL, API_URL and API_LOG (the API's log file) set.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import puppeteer from "puppeteer-core";

const APP_URL = required("APP_URL");
const API_URL = required("API_URL");
const API_LOG = required("API_LOG");
const TOKEN_LIFETIME_SECONDS = Number(process.env.TOKEN_LIFETIME_SECONDS ?? 10);
const ARTIFACTS = process.env.E2E_ARTIFACTS ?? "e2e-artifacts";
const TIMEOUT = 15_000; // for anything the page waits on; the machine may be busy
// Checks what a page shows on a timer: a tab that is not in front runs no animation frames.
const WAIT = { timeout: TIMEOUT, polling: 100 };
const PASSWORD = "correct horse battery staple";
const ALICE = { name: "Alice", email: "alice@example.com" };
const BOB = { name: "Bob", email: "bob@example.com" };

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (scripts/e2e.sh sets it)`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Reading the page

async function waitForText(page, text) {
  await page.waitForFunction((t) => document.body.innerText.includes(t), WAIT, text);
}

/** The list's rows as [title, completed], in page order. */
async function listedTasks(page) {
  return page.$$eval("ul.tasks > li", (rows) =>
    rows.map((row) => [row.querySelector(".title").textContent, row.querySelector("input[type=checkbox]").checked]),
  );
}

async function waitForList(page, expected) {
  await page
    .waitForFunction(
      (want) => {
        const rows = [...document.querySelectorAll("ul.tasks > li")].map((row) => [
          row.querySelector(".title").textContent,
          row.querySelector("input[type=checkbox]").checked,
        ]);
        return JSON.stringify(rows) === want;
      },
      WAIT,
      JSON.stringify(expected),
    )
    .catch(async () => assert.deepEqual(await listedTasks(page), expected, "the listed tasks"));
}

async function row(page, title) {
  const rows = await page.$$("ul.tasks > li");
  for (const candidate of rows) {
    if ((await candidate.$eval(".title", (el) => el.textContent)) === title) return candidate;
  }
  throw new Error(`no task titled ${JSON.stringify(title)} in the list`);
}

// ---------------------------------------------------------------------------------------------
// Acting on the page

// Clicking and typing wait for an animation frame, so every action brings its tab to the front.

async function signUp(page, person) {
  await page.bringToFront();
  await page.goto(APP_URL);
  await page.click("#switch-mode");
  await page.type("input[name=name]", person.name);
  await fillCredentials(page, person);
}

async function signIn(page, person) {
  await page.bringToFront();
  await page.goto(APP_URL);
  await fillCredentials(page, person);
}

async function fillCredentials(page, person) {
  await page.type("input[name=email]", person.email);
  await page.type("input[name=password]", PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForFunction(() => location.pathname === "/tasks", WAIT);
  await waitForText(page, `${person.name}’s tasks`);
}

/** Fills the task form's fields that are given; `due` is a datetime-local value, `dueDate` a
 * date for an all-day task, `repeat` a recurrence preset's rule, `list` a list id (or "" for the inbox). */
async function fillTaskForm(page, { title, description, priority, tags, due, dueDate, repeat, list }) {
  await page.bringToFront();
  const replace = async (selector, text) => {
    await page.$eval(selector, (el) => (el.value = ""));
    await page.type(selector, text);
  };
  if (title !== undefined) await replace("form [name=title]", title);
  if (description !== undefined) await replace("form [name=description]", description);
  if (priority !== undefined) await page.select("form [name=priority]", priority);
  if (tags !== undefined) await replace("form [name=tags]", tags);
  if (due !== undefined) await page.$eval("form [name=due_at]", (el, value) => (el.value = value), due);
  if (dueDate !== undefined) {
    await page.click("form [name=all_day]");
    await page.waitForSelector("form [name=due_date]", WAIT);
    await page.$eval("form [name=due_date]", (el, value) => (el.value = value), dueDate);
  }
  if (repeat !== undefined) await page.select("form [name=recurrence]", repeat);
  if (list !== undefined) await page.select("form [name=list_id]", list);
  await page.click("form button[type=submit]");
}

/** Waits for a row with this title, completion and due text (`2030-03-11 09:00`). */
async function waitForDueRow(page, title, completed, due) {
  await page.waitForFunction(
    (want) =>
      [...document.querySelectorAll("ul.tasks > li")].some(
        (row) =>
          JSON.stringify([
            row.querySelector(".title").textContent,
            row.querySelector("input[type=checkbox]").checked,
            row.querySelector(".due")?.textContent,
          ]) === want,
      ),
    WAIT,
    JSON.stringify([title, completed, due]),
  );
}

/** The sidebar's list named `name`, once it shows. */
async function sidebarList(page, name) {
  return page.waitForSelector(`aside.lists li[data-list-name="${name}"]`, WAIT);
}

async function addList(page, name) {
  await page.bringToFront();
  await page.$eval("aside [name=list-name]", (el) => (el.value = ""));
  await page.type("aside [name=list-name]", name);
  await page.click("#add-list");
  await sidebarList(page, name);
}

async function listsOf(person) {
  const { status, body } = await apiAs(person, "/api/lists");
  assert.equal(status, 200);
  return body;
}

async function toggle(page, title) {
  await (await row(page, title)).$eval("input[type=checkbox]", (box) => box.click());
}

async function openEdit(page, id) {
  await page.bringToFront();
  await page.goto(`${APP_URL}/tasks/${id}`);
  await page.waitForSelector("form [name=title]", WAIT);
}

/** Makes a page's clock run `ms` behind the real one (given to evaluateOnNewDocument). */
function lagClock(ms) {
  const RealDate = Date;
  class LaggingDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() - ms);
      else super(...args);
    }
    static now() {
      return RealDate.now() - ms;
    }
  }
  globalThis.Date = LaggingDate;
}

// ---------------------------------------------------------------------------------------------
// Asking the API directly (with a token of the person's own, from Better Auth's HTTP API)

// One Better Auth session per person for these checks (sign-ins are rate-limited), apart from
// the browser's, so signing out in the browser leaves it alone.
const sessionCookies = new Map();

async function sessionCookie(person) {
  if (!sessionCookies.has(person.email)) {
    const signIn = await fetch(`${APP_URL}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: APP_URL },
      body: JSON.stringify({ email: person.email, password: PASSWORD }),
    });
    assert.equal(signIn.status, 200, `signing ${person.name} in through Better Auth`);
    const cookie = signIn.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    sessionCookies.set(person.email, cookie);
  }
  return sessionCookies.get(person.email);
}

async function tokenFor(person) {
  const response = await fetch(`${APP_URL}/api/auth/token`, { headers: { cookie: await sessionCookie(person) } });
  assert.equal(response.status, 200, `a token for ${person.name}`);
  return (await response.json()).token;
}

async function apiAs(person, path) {
  const response = await fetch(`${API_URL}${path}`, { headers: { authorization: `Bearer ${await tokenFor(person)}` } });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

async function tasksOf(person) {
  const { status, body } = await apiAs(person, "/api/tasks?sort=title&limit=500");
  assert.equal(status, 200);
  return body;
}

async function taskOf(person, title) {
  const task = (await tasksOf(person)).find((t) => t.title === title);
  assert.ok(task, `${person.name} has a task titled ${JSON.stringify(title)} in the API`);
  return task;
}

/** The API's request log lines (one JSON object each) written so far. */
function apiRequests() {
  return readFileSync(API_LOG, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line))
    .filter((line) => line.logger === "todo_project.requests");
}

// ---------------------------------------------------------------------------------------------
// The steps

const steps = [];
const step = (name, run) => steps.push({ name, run });

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  // CI runs as root, where Chromium's sandbox cannot start.
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
  protocolTimeout: TIMEOUT * 2,
});
const aliceBrowser = await browser.createBrowserContext();
const alice = await aliceBrowser.newPage();
let aliceTasksBeforeBob;
let reportId;

step("Alice signs up and has no tasks", async () => {
  await signUp(alice, ALICE);
  await waitForText(alice, "No tasks.");
  const me = await apiAs(ALICE, "/api/me");
  assert.equal(me.status, 200);
  assert.equal(me.body.email, ALICE.email);
  assert.deepEqual(await tasksOf(ALICE), []);
});

step("Alice creates two tasks", async () => {
  await fillTaskForm(alice, {
    title: "Buy milk",
    description: "Two litres",
    priority: "high",
    tags: "groceries, errands",
    due: "2030-01-15T09:30",
  });
  await waitForList(alice, [["Buy milk", false]]);
  await fillTaskForm(alice, { title: "Write report" });
  await waitForList(alice, [
    ["Write report", false],
    ["Buy milk", false],
  ]);
  await waitForText(alice, "2 tasks");
  const milk = await taskOf(ALICE, "Buy milk");
  assert.equal(milk.description, "Two litres");
  assert.equal(milk.priority, "high");
  assert.deepEqual([...milk.tags].sort(), ["errands", "groceries"]);
  // The form sends the browser's local time as UTC; compare instants.
  const due = await alice.evaluate(() => new Date("2030-01-15T09:30").getTime());
  assert.equal(Date.parse(milk.due_at), due);
  assert.equal((await tasksOf(ALICE)).length, 2);
});

step("Alice completes one, and the status filter shows it", async () => {
  await toggle(alice, "Buy milk");
  await waitForList(alice, [
    ["Write report", false],
    ["Buy milk", true],
  ]);
  await alice.select("select[name=status]", "completed");
  await waitForList(alice, [["Buy milk", true]]);
  await alice.select("select[name=status]", "pending");
  await waitForList(alice, [["Write report", false]]);
  await alice.select("select[name=status]", "all");
  await waitForList(alice, [
    ["Write report", false],
    ["Buy milk", true],
  ]);
  const milk = await taskOf(ALICE, "Buy milk");
  assert.equal(milk.completed, true);
  assert.ok(milk.completed_at, "completed_at is set");
  assert.equal((await taskOf(ALICE, "Write report")).completed, false);
});

step("Alice edits one", async () => {
  reportId = (await taskOf(ALICE, "Write report")).id;
  await (await row(alice, "Write report")).$eval("a", (link) => link.click());
  await alice.waitForFunction((id) => location.pathname === `/tasks/${id}`, WAIT, reportId);
  await alice.waitForSelector("form [name=title]", WAIT);
  await fillTaskForm(alice, { title: "Write the report", description: "Quarterly numbers", priority: "medium" });
  await waitForText(alice, "Saved.");
  const report = await taskOf(ALICE, "Write the report");
  assert.equal(report.id, reportId);
  assert.equal(report.description, "Quarterly numbers");
  assert.equal(report.priority, "medium");
});

step("After a reload the changes are there", async () => {
  await alice.goto(`${APP_URL}/tasks`);
  await alice.reload();
  await waitForList(alice, [
    ["Write the report", false],
    ["Buy milk", true],
  ]);
  assert.equal((await tasksOf(ALICE)).length, 2);
});

step("A stale edit in a first tab is refused (412) and shows the current version", async () => {
  const secondTab = await aliceBrowser.newPage();
  try {
    await openEdit(alice, reportId);
    await openEdit(secondTab, reportId);
    await fillTaskForm(secondTab, { title: "Write the report today" });
    await waitForText(secondTab, "Saved.");
    await fillTaskForm(alice, { description: "A stale description" });
    await alice.waitForSelector("#conflict", WAIT);
    await waitForText(alice, "This task changed elsewhere");
    assert.match(await alice.$eval("#current-title", (el) => el.textContent), /^Write the report today/);
    const report = await taskOf(ALICE, "Write the report today");
    assert.equal(report.description, "Quarterly numbers", "the stale edit wrote nothing");
    const refused = apiRequests().filter((r) => r.status === 412 && r.route === "task-detail");
    assert.equal(refused.length, 1, "the API refused exactly one write with 412");
    // Taking the current version loads it into the form, so the next save can go through.
    await alice.$$eval("#conflict button", ([button]) => button.click());
    await alice.waitForFunction(
      () => document.querySelector("form [name=title]").value === "Write the report today",
      WAIT,
    );
  } finally {
    await secondTab.close();
  }
});

step("Alice signs out", async () => {
  await alice.goto(`${APP_URL}/tasks`);
  await waitForText(alice, "Alice’s tasks");
  await alice.bringToFront();
  await alice.click("header button");
  await alice.waitForFunction(() => location.pathname === "/", WAIT);
  await waitForText(alice, "Sign in");
  // Signed out for good: the task page sends her back, and Better Auth issues no token.
  await alice.goto(`${APP_URL}/tasks`);
  await alice.waitForFunction(() => location.pathname === "/", WAIT);
  const token = await alice.evaluate(async () => (await fetch("/api/auth/token")).status);
  assert.equal(token, 401);
  aliceTasksBeforeBob = await tasksOf(ALICE);
  assert.equal(aliceTasksBeforeBob.length, 2);
});

const bobBrowser = await browser.createBrowserContext();
const bob = await bobBrowser.newPage();

step("Bob signs up and sees no tasks", async () => {
  await signUp(bob, BOB);
  await waitForText(bob, "No tasks.");
  assert.deepEqual(await listedTasks(bob), []);
  const list = await apiAs(BOB, "/api/tasks");
  assert.deepEqual(list.body, []);
  assert.equal(list.headers.get("x-total-count"), "0");
});

step("Bob opening Alice's task gets the not-found state", async () => {
  await bob.goto(`${APP_URL}/tasks/${reportId}`);
  await bob.waitForSelector("#not-found", WAIT);
  await waitForText(bob, "Task not found");
  assert.equal((await apiAs(BOB, `/api/tasks/${reportId}`)).status, 404);
  assert.deepEqual(await tasksOf(ALICE), aliceTasksBeforeBob, "Alice's tasks are unchanged");
});

step("Alice signs in again and sees her tasks", async () => {
  await signIn(alice, ALICE);
  await waitForList(alice, [
    ["Write the report today", false],
    ["Buy milk", true],
  ]);
  assert.deepEqual(await tasksOf(ALICE), aliceTasksBeforeBob);
});

step("A second tab shows the first tab's create, edit and delete within 5 s, without a reload", async () => {
  const secondTab = await aliceBrowser.newPage();
  // What the second tab asks of the API, and whether it ever loads a page again.
  const reads = [];
  let loads = 0;
  secondTab.on("request", (request) => {
    const url = new URL(request.url());
    if (request.method() === "GET" && url.origin === new URL(API_URL).origin) reads.push(url);
  });
  secondTab.on("load", () => loads++);
  const soon = { timeout: 5_000, polling: 100 };
  const shows = async (page, expected) =>
    page
      .waitForFunction(
        (want) =>
          JSON.stringify(
            [...document.querySelectorAll("ul.tasks li")].map((row) => [
              row.querySelector(".title").textContent,
              row.querySelector("input[type=checkbox]").checked,
            ]),
          ) === want,
        soon,
        JSON.stringify(expected),
      )
      .catch(async () => assert.deepEqual(await listedTasks(page), expected, "the second tab's tasks, after 5 s"));
  const before = [
    ["Write the report today", false],
    ["Buy milk", true],
  ];
  try {
    await secondTab.goto(`${APP_URL}/tasks`);
    await waitForList(secondTab, before);
    loads = 0;
    await alice.goto(`${APP_URL}/tasks`);
    await waitForList(alice, before);
    // The first tab creates a task...
    await fillTaskForm(alice, { title: "Call the plumber" });
    await waitForList(alice, [["Call the plumber", false], ...before]);
    await secondTab.bringToFront();
    await shows(secondTab, [["Call the plumber", false], ...before]);
    // ...edits it...
    await openEdit(alice, (await taskOf(ALICE, "Call the plumber")).id);
    await fillTaskForm(alice, { title: "Call the plumber at nine" });
    await waitForText(alice, "Saved.");
    await secondTab.bringToFront();
    await shows(secondTab, [["Call the plumber at nine", false], ...before]);
    // ...and deletes it.
    await alice.goto(`${APP_URL}/tasks`);
    await waitForList(alice, [["Call the plumber at nine", false], ...before]);
    await (await row(alice, "Call the plumber at nine")).$eval("button", (button) => button.click());
    await waitForList(alice, before);
    await secondTab.bringToFront();
    await shows(secondTab, before);
    assert.equal(loads, 0, "the second tab never reloaded");
    const paths = reads.map((url) => url.pathname);
    assert.ok(!paths.includes("/api/tasks"), `the second tab never fetched the full list: ${paths}`);
    const feed = reads.filter((url) => url.pathname === "/api/changes");
    assert.ok(!feed[0].searchParams.has("cursor"), "its first sync is a snapshot");
    assert.ok(feed.length > 1, "it synced more than once");
    assert.ok(
      feed.slice(1).every((url) => url.searchParams.has("cursor")),
      "every later sync asked only for what changed after its cursor",
    );
  } finally {
    await secondTab.close();
  }
});

// Two tabs load the list, then wait until their tokens have expired. The first tab's clock is
// right: the token helper sees the expiry and fetches a new token before calling. The second
// tab's clock runs a minute behind the servers', so its helper still trusts the old token: the
// API refuses it once (401), and the helper fetches a new one and retries.
const laggingTab = await aliceBrowser.newPage();
await laggingTab.evaluateOnNewDocument(lagClock, 60_000);

step("After the token expires, a step in a tab with the right clock refreshes it first (no 401)", async () => {
  await laggingTab.goto(`${APP_URL}/tasks`);
  await waitForList(laggingTab, [
    ["Write the report today", false],
    ["Buy milk", true],
  ]);
  await alice.reload();
  await waitForList(alice, [
    ["Write the report today", false],
    ["Buy milk", true],
  ]);
  // Both tabs now hold a token; let both expire (the API allows no leeway in this run). The tab
  // in front keeps syncing its tasks meanwhile; the lagging tab, hidden, waits, so its first
  // call after the expiry is the toggle of the next step.
  await alice.bringToFront();
  await new Promise((resolve) => setTimeout(resolve, (TOKEN_LIFETIME_SECONDS + 1) * 1000));
  const before = apiRequests().length;
  await toggle(alice, "Write the report today");
  await waitForList(alice, [
    ["Write the report today", true],
    ["Buy milk", true],
  ]);
  assert.equal((await taskOf(ALICE, "Write the report today")).completed, true);
  const refused = apiRequests()
    .slice(before)
    .filter((r) => r.status === 401);
  assert.equal(refused.length, 0, "no request was refused");
});

step("After the token expires, a step in a tab whose clock is behind succeeds after one 401", async () => {
  const before = apiRequests().length;
  await toggle(laggingTab, "Buy milk");
  await waitForList(laggingTab, [
    ["Write the report today", true],
    ["Buy milk", false],
  ]);
  assert.equal((await taskOf(ALICE, "Buy milk")).completed, false);
  const requests = apiRequests().slice(before);
  const refused = requests.filter((r) => r.status === 401);
  assert.equal(refused.length, 1, "exactly one request was refused");
  assert.equal(refused[0].route, "task-complete");
  const completes = requests.filter((r) => r.route === "task-complete").map((r) => r.status);
  assert.deepEqual(completes, [401, 200], "the refused toggle was retried once and went through");
});

step("Alice deletes a task", async () => {
  const milkId = (await taskOf(ALICE, "Buy milk")).id;
  await (await row(alice, "Write the report today")).$eval("button", (button) => button.click());
  // The first tab shows the API's state after its delete (the other one, hidden, catches up when shown).
  await waitForList(alice, [["Buy milk", false]]);
  await waitForText(alice, "1 task");
  const left = await tasksOf(ALICE);
  assert.deepEqual(
    left.map((t) => t.id),
    [milkId],
  );
  assert.equal((await apiAs(ALICE, `/api/tasks/${reportId}`)).status, 404);
});

step("A form the API refuses shows its message and the field's error, and creates nothing", async () => {
  await fillTaskForm(alice, { title: "   ", tags: "ok, " + "x".repeat(51) });
  await alice.waitForSelector("form [role=alert]", WAIT);
  const shown = await alice.$$eval("form .field-error", (errors) =>
    errors.map((e) => [e.parentElement.querySelector("[name]").name, e.textContent]),
  );
  assert.deepEqual(
    shown.map(([field]) => field),
    ["title", "tags"],
  );
  assert.match(shown[0][1], /blank/);
  const message = await alice.$eval("form [role=alert]", (el) => el.textContent);
  assert.match(message, /^title: /, "the API's message");
  assert.equal((await tasksOf(ALICE)).length, 1);
});

step("The list pages through many tasks", async () => {
  const token = await tokenFor(ALICE);
  for (let n = 1; n <= 11; n++) {
    const response = await fetch(`${API_URL}/api/tasks`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ title: `Task ${String(n).padStart(2, "0")}` }),
    });
    assert.equal(response.status, 201);
  }
  await alice.reload();
  await waitForText(alice, "12 tasks");
  const firstPage = ["11", "10", "09", "08", "07", "06", "05", "04", "03", "02"].map((n) => [`Task ${n}`, false]);
  await waitForList(alice, firstPage);
  const next = "nav button:last-child";
  const previous = "nav button:first-child";
  assert.equal(await alice.$eval(previous, (b) => b.disabled), true);
  await alice.$eval(next, (b) => b.click());
  await waitForList(alice, [
    ["Task 01", false],
    ["Buy milk", false],
  ]);
  assert.equal(await alice.$eval(next, (b) => b.disabled), true);
  await alice.$eval(previous, (b) => b.click());
  await waitForList(alice, firstPage);
  const list = await apiAs(ALICE, "/api/tasks?limit=10");
  assert.equal(list.headers.get("x-total-count"), "12");
});

step("A weekly 09:00 task in New York stays at 09:00 local across the change to daylight saving", async () => {
  const newYork = await aliceBrowser.newPage();
  try {
    await newYork.emulateTimezone("America/New_York");
    await newYork.goto(`${APP_URL}/tasks`);
    await waitForText(newYork, "Alice’s tasks");
    // Monday 4 March 2030, 09:00 EST; the clocks spring forward on Sunday 10 March.
    await fillTaskForm(newYork, { title: "Standup", due: "2030-03-04T09:00", repeat: "FREQ=WEEKLY" });
    await waitForDueRow(newYork, "Standup", false, "2030-03-04 09:00");
    const standup = await taskOf(ALICE, "Standup");
    assert.equal(standup.due_at, "2030-03-04T14:00:00Z");
    assert.equal(standup.due_timezone, "America/New_York", "the form sends the browser's zone");
    assert.equal(standup.recurrence, "FREQ=WEEKLY");
    await toggle(newYork, "Standup");
    // The next occurrence: Monday 11 March, 09:00 EDT, which is an hour earlier in UTC.
    await waitForDueRow(newYork, "Standup", false, "2030-03-11 09:00");
    await waitForDueRow(newYork, "Standup", true, "2030-03-04 09:00");
    await waitForText(newYork, "Next: Standup, 2030-03-11 09:00");
    const open = (await tasksOf(ALICE)).filter((t) => t.title === "Standup" && !t.completed);
    assert.deepEqual(
      open.map((t) => [t.due_at, t.due_timezone]),
      [["2030-03-11T13:00:00Z", "America/New_York"]],
    );
  } finally {
    await newYork.close();
  }
});

step("An all-day task shows its date, and its description, priority and tags", async () => {
  await fillTaskForm(alice, {
    title: "Pay rent",
    description: "Before noon",
    priority: "high",
    tags: "home",
    dueDate: "2030-03-31",
    repeat: "FREQ=MONTHLY",
  });
  await waitForDueRow(alice, "Pay rent", false, "2030-03-31 (all day)");
  const shown = await (await row(alice, "Pay rent")).evaluate((li) => li.innerText);
  for (const text of ["Before noon", "high", "#home", "monthly"]) assert.ok(shown.includes(text), text);
  const rent = await taskOf(ALICE, "Pay rent");
  assert.deepEqual([rent.due_date, rent.due_at, rent.recurrence], ["2030-03-31", null, "FREQ=MONTHLY"]);
});

let aliceLists;
let tasksBeforeLists;

step("Alice makes two lists and files a task in each", async () => {
  await alice.goto(`${APP_URL}/tasks`);
  await waitForText(alice, "Alice’s tasks");
  await addList(alice, "Work");
  await addList(alice, "Home");
  aliceLists = Object.fromEntries((await listsOf(ALICE)).map((list) => [list.name, list.id]));
  tasksBeforeLists = (await tasksOf(ALICE)).length;
  assert.deepEqual(Object.keys(aliceLists), ["Work", "Home"]);
  await fillTaskForm(alice, { title: "Plan the week", list: String(aliceLists.Work) });
  await waitForText(alice, `${tasksBeforeLists + 1} tasks`);
  await fillTaskForm(alice, { title: "Water the plants", list: String(aliceLists.Home) });
  await waitForText(alice, `${tasksBeforeLists + 2} tasks`);
  assert.equal((await taskOf(ALICE, "Plan the week")).list_id, aliceLists.Work);
  assert.equal((await taskOf(ALICE, "Water the plants")).list_id, aliceLists.Home);
  // Showing one list shows its tasks only.
  await (await sidebarList(alice, "Work")).$eval("button", (button) => button.click());
  await waitForList(alice, [["Plan the week", false]]);
});

step("Alice moves a task from one list to the other", async () => {
  const task = await taskOf(ALICE, "Plan the week");
  await openEdit(alice, task.id);
  await fillTaskForm(alice, { list: String(aliceLists.Home) });
  await waitForText(alice, "Saved.");
  const moved = await taskOf(ALICE, "Plan the week");
  assert.equal(moved.list_id, aliceLists.Home);
  assert.notEqual(moved.updated_at, task.updated_at, "a move is a write");
  const home = await apiAs(ALICE, `/api/tasks?list=${aliceLists.Home}&sort=title`);
  assert.deepEqual(
    home.body.map((t) => t.title),
    ["Plan the week", "Water the plants"],
  );
});

step("Alice deletes a list, and its tasks go with it", async () => {
  await alice.goto(`${APP_URL}/tasks`);
  const home = await sidebarList(alice, "Home");
  alice.once("dialog", (dialog) => dialog.accept());
  await home.$eval("button.delete", (button) => button.click());
  await alice.waitForFunction(() => !document.querySelector('aside.lists li[data-list-name="Home"]'), WAIT);
  await waitForText(alice, `${tasksBeforeLists} tasks`);
  assert.deepEqual(
    (await listsOf(ALICE)).map((list) => list.name),
    ["Work"],
  );
  const titles = (await tasksOf(ALICE)).map((t) => t.title);
  assert.ok(!titles.includes("Plan the week") && !titles.includes("Water the plants"), "the list's tasks are gone");
  assert.equal((await apiAs(ALICE, `/api/lists/${aliceLists.Home}`)).status, 404);
});

step("A second tab shows a new list, its count and its deletion within 5 s, from the feed alone", async () => {
  const secondTab = await aliceBrowser.newPage();
  const reads = [];
  let loads = 0;
  secondTab.on("request", (request) => {
    const url = new URL(request.url());
    if (request.method() === "GET" && url.origin === new URL(API_URL).origin) reads.push(url.pathname);
  });
  secondTab.on("load", () => loads++);
  const sidebar = (page) =>
    page.$$eval("aside.lists li[data-list-id] button:first-child", (buttons) => buttons.map((b) => b.textContent));
  const shows = async (expected) =>
    secondTab
      .waitForFunction(
        (want) =>
          JSON.stringify(
            [...document.querySelectorAll("aside.lists li[data-list-id] button:first-child")].map((b) => b.textContent),
          ) === want,
        { timeout: 5_000, polling: 100 },
        JSON.stringify(expected),
      )
      .catch(async () => assert.deepEqual(await sidebar(secondTab), expected, "the second tab's lists, after 5 s"));
  try {
    await secondTab.goto(`${APP_URL}/tasks`);
    await shows(["Work (0)"]);
    loads = 0;
    // The first tab adds a list...
    await addList(alice, "Errands");
    await secondTab.bringToFront();
    await shows(["Work (0)", "Errands (0)"]);
    // ...files a task in it (the list's count changes)...
    const errands = (await listsOf(ALICE)).find((list) => list.name === "Errands").id;
    await fillTaskForm(alice, { title: "Post the letter", list: String(errands) });
    await waitForText(alice, `${tasksBeforeLists + 1} tasks`);
    await secondTab.bringToFront();
    await shows(["Work (0)", "Errands (1)"]);
    // ...and deletes it, with its task.
    await alice.bringToFront();
    alice.once("dialog", (dialog) => dialog.accept());
    await (await sidebarList(alice, "Errands")).$eval("button.delete", (button) => button.click());
    await waitForText(alice, `${tasksBeforeLists} tasks`);
    await secondTab.bringToFront();
    await shows(["Work (0)"]);
    assert.equal(loads, 0, "the second tab never reloaded");
    assert.ok(!reads.includes("/api/lists"), `the second tab never fetched the lists: ${reads}`);
  } finally {
    await secondTab.close();
    await alice.bringToFront();
  }
});

step("Alice puts three tasks of a list in her own order, and a reload keeps it", async () => {
  const showWorkInMyOrder = async () => {
    await (await sidebarList(alice, "Work")).$eval("button", (button) => button.click());
    await alice.waitForSelector("[name=manual]", WAIT);
    if (!(await alice.$eval("[name=manual]", (box) => box.checked))) await alice.click("[name=manual]");
  };
  await showWorkInMyOrder();
  for (const title of ["One", "Two", "Three"]) {
    await fillTaskForm(alice, { title, list: String(aliceLists.Work) });
    await waitForText(alice, title);
  }
  await waitForList(alice, [["One", false], ["Two", false], ["Three", false]]);
  await (await row(alice, "One")).$eval("button.down", (button) => button.click());
  await waitForList(alice, [["Two", false], ["One", false], ["Three", false]]);
  await (await row(alice, "Three")).$eval("button.up", (button) => button.click());
  await waitForList(alice, [["Two", false], ["Three", false], ["One", false]]);
  await alice.reload();
  await waitForText(alice, "Alice’s tasks");
  await showWorkInMyOrder();
  await waitForList(alice, [["Two", false], ["Three", false], ["One", false]]);
  const inOrder = await apiAs(ALICE, `/api/tasks?list=${aliceLists.Work}&sort=position`);
  assert.deepEqual(
    inOrder.body.map((t) => t.title),
    ["Two", "Three", "One"],
  );
});

step("Alice breaks a task into two steps, checks one off, and deleting the task takes both", async () => {
  for (const step of ["Step A", "Step B"]) {
    const parent = await row(alice, "Two");
    await parent.$eval("[name=subtask-title]", (input) => input.focus());
    await alice.keyboard.type(step);
    await parent.$eval("button.add-subtask", (button) => button.click());
    await alice.waitForFunction(
      (title) => [...document.querySelectorAll(".subtask-title")].some((el) => el.textContent === title),
      WAIT,
      step,
    );
  }
  await alice.click('[aria-label="Complete Step A"]');
  await alice.waitForFunction(
    () => document.querySelector('[aria-label="Complete Step A"]')?.checked === true,
    WAIT,
  );
  const two = await taskOf(ALICE, "Two");
  assert.equal(two.subtask_count, 2);
  assert.equal(two.open_subtask_count, 1);
  assert.equal((await taskOf(ALICE, "Step A")).parent_id, two.id);
  await (await row(alice, "Two")).$$eval("button", (buttons) => buttons.find((b) => b.textContent === "Delete").click());
  await waitForList(alice, [["Three", false], ["One", false]]);
  const titles = (await tasksOf(ALICE)).map((t) => t.title);
  assert.ok(!["Two", "Step A", "Step B"].some((title) => titles.includes(title)), "the task and its steps are gone");
});

step("Bob cannot see Alice's lists or put a task in one", async () => {
  await bob.goto(`${APP_URL}/tasks`);
  await waitForText(bob, "Bob’s tasks");
  assert.equal(await bob.$$eval("aside.lists li[data-list-id]", (items) => items.length), 0);
  assert.deepEqual(await listsOf(BOB), []);
  assert.equal((await apiAs(BOB, `/api/lists/${aliceLists.Work}`)).status, 404);
  assert.equal((await apiAs(BOB, `/api/tasks?list=${aliceLists.Work}`)).status, 404);
  // A form tampered with to name Alice's list: the API refuses it and the form says why.
  await bob.$eval(
    "form [name=list_id]",
    (select, id) => select.add(new Option("Alice's Work", String(id))),
    aliceLists.Work,
  );
  await fillTaskForm(bob, { title: "Sneaky", list: String(aliceLists.Work) });
  await bob.waitForSelector("form .field-error", WAIT);
  const field = await bob.$eval("form .field-error", (e) => e.parentElement.querySelector("[name]").name);
  assert.equal(field, "list_id");
  assert.deepEqual(await tasksOf(BOB), []);
});

// ---------------------------------------------------------------------------------------------

let passed = 0;
let failed = 0;
let skipped = 0;
for (const [index, { name, run }] of steps.entries()) {
  if (failed) {
    skipped++;
    console.log(`skip ${name}`);
    continue;
  }
  const started = Date.now();
  try {
    await run();
    passed++;
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed++;
    console.log(`FAIL ${name}\n     ${String(error.stack ?? error).split("\n").join("\n     ")}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const [n, page] of (await browser.pages()).entries()) {
      await page.screenshot({ path: `${ARTIFACTS}/step-${index + 1}-tab-${n + 1}.png` }).catch(() => {});
    }
  }
}
await browser.close();
if (process.env.E2E_STARTED_AT) {
  console.log(`e2e took ${Math.round(Date.now() / 1000 - Number(process.env.E2E_STARTED_AT))} s in all`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed ? 1 : 0);
