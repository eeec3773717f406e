// Apollo Client 4 with graphql-ws against the served API, as an app team wires it.
// Run by tests/clients/test_node_clients.py: BASE_URL, PHONE, PASSWORD in the environment; it prints
// "SUBSCRIBED" when its live subscription is open, waits for an event, prints one JSON line of results and
// exits 0, or fails an assertion and exits 1.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { relayStylePagination } from "@apollo/client/utilities";
import { buildSchema, isAbstractType, print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const here = dirname(fileURLToPath(import.meta.url));
const contract = join(here, "..", "..", "..", "mobile_contract");
const BASE = process.env.BASE_URL;
const HTTP = `${BASE}/graphql`;
const WS = HTTP.replace("http://", "ws://");

// possibleTypes for the contract's unions and interfaces (graphql-codegen's fragment-matcher makes the same)
const schema = buildSchema(readFileSync(join(contract, "schema.graphql"), "utf8"));
const possibleTypes = {};
for (const type of Object.values(schema.getTypeMap())) {
  if (isAbstractType(type) && !type.name.startsWith("__")) {
    possibleTypes[type.name] = schema.getPossibleTypes(type).map((t) => t.name);
  }
}
const manifest = JSON.parse(readFileSync(join(contract, "manifest.json"), "utf8"));
const byName = Object.fromEntries(manifest.operations.map((op) => [op.name, op]));
const operationText = (client, name) =>
  readFileSync(join(contract, "operations", client, `${name}.graphql`), "utf8");
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

const requests = []; // every HTTP request the links made: method, body or query string
const countingFetch = async (url, init) => {
  requests.push({ method: init?.method ?? "GET", url: String(url), body: init?.body ?? null });
  return fetch(url, init);
};

function makeClient({ token = null, persisted = null, get = false } = {}) {
  const auth = new SetContextLink((prev) => ({
    headers: { ...prev.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  }));
  const http = new HttpLink({ uri: HTTP, fetch: countingFetch });
  const links = [auth];
  if (persisted) {
    links.push(new PersistedQueryLink({ ...persisted, useGETForHashedQueries: get }));
  }
  return new ApolloClient({
    link: ApolloLink.from([...links, http]),
    cache: new InMemoryCache({
      possibleTypes,
      typePolicies: { Query: { fields: { announcements: relayStylePagination(["filter", "sort"]) } } },
    }),
  });
}

const results = {};

// 1. anonymous queries, with fragments normalised into the cache
{
  const client = makeClient();
  const LIST = gql(operationText("app", "AnnouncementList"));
  const { data } = await client.query({ query: LIST, variables: { first: 3 } });
  assert.equal(data.announcements.edges.length, 3);
  const first = data.announcements.edges[0].node;
  const cached = client.cache.extract();
  assert.ok(cached[`Announcement:${first.id}`], "the announcement is normalised by __typename and id");
  const card = client.readFragment({
    id: client.cache.identify(first),
    fragment: { kind: "Document", definitions: LIST.definitions.filter((d) => d.kind === "FragmentDefinition") },
    fragmentName: "AnnouncementCard",
  });
  assert.equal(card.title, first.title);
  // the detail query writes into the same normalised object: the list sees its title through the fragment
  const DETAIL = gql(operationText("app", "AnnouncementDetail"));
  const detail = await client.query({ query: DETAIL, variables: { id: first.id } });
  assert.equal(detail.data.announcement.id, first.id);
  client.cache.modify({ id: client.cache.identify(first), fields: { title: () => "改过的标题" } });
  const again = client.readQuery({ query: LIST, variables: { first: 3 } });
  assert.equal(again.announcements.edges[0].node.title, "改过的标题");
  const before = requests.length;
  await client.query({ query: DETAIL, variables: { id: first.id } }); // cache-first: no request
  assert.equal(requests.length, before);
  results.normalised = first.id;

  // 2. pagination forwards (first/after, relayStylePagination merges the pages) and backwards if offered
  const PAGE = gql`
    query Page($first: Int, $after: String, $last: Int, $before: String) {
      announcements(first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { __typename id title } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  `;
  const args = new Set(schema.getQueryType().getFields().announcements.args.map((a) => a.name));
  const pager = makeClient();
  if (args.has("last") && args.has("before")) {
    const one = await pager.query({ query: PAGE, variables: { first: 2 } });
    const two = await pager.query({ query: PAGE, variables: { first: 2, after: one.data.announcements.pageInfo.endCursor } });
    const back = await pager.query({ query: PAGE, variables: { last: 2, before: two.data.announcements.pageInfo.startCursor } });
    assert.deepEqual(
      back.data.announcements.edges.map((e) => e.node.id),
      one.data.announcements.edges.map((e) => e.node.id),
    );
    results.backwards = true;
  } else {
    results.backwards = false;
  }
  const FORWARD = gql`
    query Forward($first: Int, $after: String) {
      announcements(first: $first, after: $after) {
        edges { cursor node { __typename id title } }
        pageInfo { hasNextPage endCursor }
      }
    }
  `;
  const watch = pager.watchQuery({ query: FORWARD, variables: { first: 2 } });
  const page1 = await watch.refetch();
  assert.ok(page1.data.announcements.pageInfo.hasNextPage);
  await watch.fetchMore({ variables: { after: page1.data.announcements.pageInfo.endCursor } });
  const merged = pager.readQuery({ query: FORWARD, variables: { first: 2 } });
  const ids = merged.announcements.edges.map((e) => e.node.id);
  assert.equal(ids.length, 4);
  assert.equal(new Set(ids).size, 4);
  results.forwardPages = ids.length;
}

// 3. the sign-in union: a typed error as data, then a session
let token;
{
  const client = makeClient();
  const SIGN_IN = gql(operationText("app", "SignIn"));
  const wrong = await client.mutate({
    mutation: SIGN_IN,
    variables: { input: { phone: process.env.PHONE, password: "not-the-password" } },
  });
  const refused = wrong.data.authLogin;
  assert.notEqual(refused.__typename, "SignedIn");
  assert.ok(refused.code, "a business failure is data with a stable code");
  results.signInRefused = refused.code;
  const right = await client.mutate({
    mutation: SIGN_IN,
    variables: { input: { phone: process.env.PHONE, password: process.env.PASSWORD } },
  });
  assert.equal(right.data.authLogin.__typename, "SignedIn");
  token = right.data.authLogin.session.accessToken;
  const me = await makeClient({ token }).query({ query: gql(operationText("app", "Me")) });
  assert.ok(me.data.me.roles.length > 0);
  results.signedIn = me.data.me.user.name;
}

// 4. typed top-level errors: a 400 (validation) and a 401 (bad token), read from graphql-response+json bodies
{
  const client = makeClient();
  await assert.rejects(client.query({ query: gql`{ noSuchField }` }), (err) => {
    assert.ok(CombinedGraphQLErrors.is(err), String(err));
    assert.equal(err.errors[0].extensions.code, "GRAPHQL_VALIDATION_FAILED");
    return true;
  });
  const stranger = makeClient({ token: "not-a-token" });
  await assert.rejects(stranger.query({ query: gql`{ serverTime }` }), (err) => {
    assert.ok(CombinedGraphQLErrors.is(err), String(err));
    assert.equal(err.errors[0].extensions.code, "UNAUTHENTICATED");
    return true;
  });
  results.typedErrors = true;
}

// 5. persisted queries by hash: the manifest's hashes (persisted operations) over GET and POST, and
//    automatic registration of an ad-hoc query (Apollo's retry with the text after PersistedQueryNotFound)
for (const get of [true, false]) {
  const client = makeClient({
    persisted: { generateHash: (document) => byName[document.definitions.find((d) => d.name).name.value].sha256 },
    get,
  });
  const start = requests.length;
  const { data } = await client.query({
    query: gql(operationText("app", "AnnouncementList")),
    variables: { first: 2 },
  });
  assert.equal(data.announcements.edges.length, 2);
  const sent = requests.slice(start);
  assert.equal(sent.length, 1, "the manifest's hash alone ran it: no retry with the text");
  assert.equal(sent[0].method, get ? "GET" : "POST");
  assert.ok(!(sent[0].body ?? sent[0].url).includes("announcements("), "no query text was sent");
}
{
  const client = makeClient({ persisted: { sha256 } });
  const adHoc = gql`query ClientsClock${Date.now()} { serverTime }`;
  const start = requests.length;
  const first = await client.query({ query: adHoc });
  assert.ok(first.data.serverTime);
  assert.equal(requests.length - start, 2, "hash refused (PersistedQueryNotFound), then hash and text");
  const again = makeClient({ persisted: { sha256 } });
  const start2 = requests.length;
  await again.query({ query: adHoc });
  assert.equal(requests.length - start2, 1, "registered: the hash alone runs it");
  results.apq = true;
}

// 6. persisted operations over graphql-transport-ws: with the query "" through graphql-ws's client (it insists
//    on a string), absent and null as Apollo Kotlin and iOS send them, on the protocol's frames
{
  const hash = byName.AnnouncementList.sha256;
  const persistedPayload = () => ({
    variables: { first: 1 },
    extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
  });
  const ws = createClient({ url: WS, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0 });
  const received = [];
  await new Promise((resolve, reject) =>
    ws.subscribe({ ...persistedPayload(), query: "" }, { next: (m) => received.push(m), error: reject, complete: resolve }),
  );
  await ws.dispose();
  assert.equal(received.length, 1);
  assert.equal(received[0].data.announcements.edges.length, 1, JSON.stringify(received[0]));

  const socket = new WebSocket(WS, "graphql-transport-ws");
  const frames = [];
  let wake = () => {};
  socket.on("message", (raw) => {
    const frame = JSON.parse(String(raw));
    if (frame.type !== "ping" && frame.type !== "pong") frames.push(frame);
    wake();
  });
  const nextFrame = async () => {
    while (!frames.length) await new Promise((r) => (wake = r));
    return frames.shift();
  };
  await new Promise((r) => socket.once("open", r));
  socket.send(JSON.stringify({ type: "connection_init", payload: {} }));
  assert.equal((await nextFrame()).type, "connection_ack");
  for (const [id, payload] of [["absent", persistedPayload()], ["null", { ...persistedPayload(), query: null }]]) {
    socket.send(JSON.stringify({ id, type: "subscribe", payload }));
    const answer = await nextFrame();
    assert.equal(answer.type, "next", JSON.stringify(answer));
    assert.equal(answer.id, id);
    assert.equal(answer.payload.data.announcements.edges.length, 1);
    assert.equal((await nextFrame()).type, "complete");
  }
  socket.close();
  results.wsPersisted = 3;
}

// 7. a subscription through Apollo's GraphQLWsLink, authenticated in connection_init
{
  const wsClient = createClient({
    url: WS,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const client = new ApolloClient({ link: new GraphQLWsLink(wsClient), cache: new InMemoryCache({ possibleTypes }) });
  const EVENTS = gql`
    subscription RegistrationsLive {
      events(types: ["organisation.registered"]) { eventId type objectType objectId }
    }
  `;
  const event = await new Promise((resolve, reject) => {
    const sub = client.subscribe({ query: EVENTS }).subscribe({
      next: (result) => {
        if (result.data) {
          sub.unsubscribe();
          resolve(result.data.events);
        }
      },
      error: reject,
    });
    wsClient.on("connected", () => setTimeout(() => console.log("SUBSCRIBED"), 0));
  });
  assert.equal(event.type, "organisation.registered");
  results.subscription = event.objectType;
  await wsClient.dispose();
}

console.log(JSON.stringify(results));
process.exit(0);
