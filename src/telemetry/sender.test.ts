import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sendSpool } from "./sender.js";
import { appendToSpool, spoolPaths } from "./spool.js";

describe("sendSpool()", () => {
  let dir: string;
  let status = 204;
  const bodies: { events: { n: number }[] }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(status).end();
    });
  });
  let url: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sender-test-"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps the batch when the endpoint answers 500, and delivers it with the next events later", async () => {
    status = 500;
    await appendToSpool(dir, { n: 1 });
    assert.equal(await sendSpool(dir, url), 0);
    assert.equal((await readdir(spoolPaths(dir).outbox)).length, 1);
    status = 204;
    await appendToSpool(dir, { n: 2 });
    assert.equal(await sendSpool(dir, url), 2);
    assert.deepEqual(bodies.at(-2)?.events, [{ n: 1 }]);
    assert.deepEqual(bodies.at(-1)?.events, [{ n: 2 }]);
    assert.equal((await readdir(spoolPaths(dir).outbox)).length, 0);
    assert.equal(existsSync(spoolPaths(dir).senderLock), false);
  });

  it("keeps everything when the endpoint is unreachable", async () => {
    await appendToSpool(dir, { n: 3 });
    assert.equal(await sendSpool(dir, "http://127.0.0.1:9/", { timeoutMs: 1000 }), 0);
    assert.equal((await readdir(spoolPaths(dir).outbox)).length, 1);
  });

  it("does nothing while a live sender holds the lock, and takes over a dead one's", async () => {
    await writeFile(spoolPaths(dir).senderLock, String(process.pid));
    assert.equal(await sendSpool(dir, url), 0);
    await writeFile(spoolPaths(dir).senderLock, "999999999");
    assert.equal(await sendSpool(dir, url), 1);
  });
});
