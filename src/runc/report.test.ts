import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { formatRuncLogLine, reportRuncError } from "./report.js";

describe("formatRuncLogLine()", () => {
  const epoch = new Date(0);
  it("writes runc's JSON form with the imageless prefix", () => {
    const line = formatRuncLogLine("json", 'annotation flox.dev/nix-mutable: cannot use "yes"', epoch);
    assert.equal(
      line,
      '{"level":"error","msg":"imageless: annotation flox.dev/nix-mutable: cannot use \\"yes\\"","time":"1970-01-01T00:00:00.000Z"}\n',
    );
  });
  it("writes logrus's text form for text and for no format", () => {
    const expected = 'time="1970-01-01T00:00:00.000Z" level=error msg="imageless: boom \\"x\\""\n';
    assert.equal(formatRuncLogLine("text", 'boom "x"', epoch), expected);
    assert.equal(formatRuncLogLine(undefined, 'boom "x"', epoch), expected);
  });
  it("keeps a message with newlines on one line", () => {
    for (const format of ["json", "text"]) {
      const line = formatRuncLogLine(format, "a\nb\r\nc", epoch);
      assert.equal(line.indexOf("\n"), line.length - 1);
      assert.ok(!line.includes("\r"));
    }
  });
});

describe("reportRuncError()", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "imageless-report-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("appends the last error line after runc's own lines, in the shape the shim parses", async () => {
    const log = join(dir, "log.json");
    await writeFile(log, '{"level":"warning","msg":"earlier","time":"2024-01-01T00:00:00Z"}\n');
    reportRuncError({ path: log, format: "json" }, "environment acme/web: not found");
    const lines = (await readFile(log, "utf8")).trimEnd().split("\n");
    assert.equal(lines.length, 2);
    const last: unknown = JSON.parse(lines[1] ?? "");
    assert.ok(typeof last === "object" && last !== null);
    assert.equal(Reflect.get(last, "level"), "error");
    assert.equal(Reflect.get(last, "msg"), "imageless: environment acme/web: not found");
    const time = Reflect.get(last, "time");
    assert.ok(typeof time === "string" && !Number.isNaN(Date.parse(time)));
  });

  it("does not throw when the log cannot be written", () => {
    assert.doesNotThrow(() => reportRuncError({ path: join(dir, "gone", "log.json"), format: "json" }, "x"));
  });

  it("writes to stderr: the plain message with --log, runc's line without", () => {
    const report = fileURLToPath(new URL("./report.js", import.meta.url));
    const script = (target: string) =>
      `import { reportRuncError } from ${JSON.stringify(report)}; reportRuncError(${target}, "no runc");`;
    const withLog = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        script(`{ path: ${JSON.stringify(join(dir, "l.json"))}, format: "json" }`),
      ],
      {
        encoding: "utf8",
      },
    );
    assert.equal(withLog.stderr, "imageless: no runc\n");
    const without = spawnSync(process.execPath, ["--input-type=module", "-e", script("{}")], {
      encoding: "utf8",
    });
    assert.match(without.stderr, /^time="[^"]+" level=error msg="imageless: no runc"\n$/);
  });
});
