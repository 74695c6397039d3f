// A taskql server of our own for the checks: the built binary (TASKQL_BIN, or `go build` of the
// repository), `serve` on a fresh SQLite database in a temporary directory, where it loads the
// demo world; its address is read from what it prints; it is stopped by its process id.

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Failure } from './check.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const BUILD_TIMEOUT_MS = 300_000; // go build from a cold cache on 2 cores
const LISTEN_TIMEOUT_MS = 30_000; // migrate, load the demo world, listen
const STOP_TIMEOUT_MS = 15_000; // serve drains for 10 s at most after SIGTERM

// The line serve prints once it listens (realtime_clients_test.go reads the same one).
const ANNOUNCE = /^taskql: playground at (http:\/\/127\.0\.0\.1:\d+)\/ , API at http:\/\/127\.0\.0\.1:\d+\/query$/;

// makeTempDir is a fresh directory, removed by the returned function.
export async function makeTempDir() {
  const dir = await mkdtemp(path.join(tmpdir(), 'taskql-clients-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

// taskqlBinary is TASKQL_BIN, or a binary built now into dir. A relative TASKQL_BIN is taken from
// where npm was run (INIT_CWD), not from clients/, where npm runs the script.
export async function taskqlBinary(dir, log) {
  if (process.env.TASKQL_BIN) return path.resolve(process.env.INIT_CWD ?? process.cwd(), process.env.TASKQL_BIN);
  const bin = path.join(dir, 'taskql');
  const started = performance.now();
  log(`TASKQL_BIN is not set: go build -o ${bin} . (in ${repoRoot})`);
  await new Promise((resolve, reject) => {
    execFile('go', ['build', '-o', bin, '.'], { cwd: repoRoot, timeout: BUILD_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (err, _stdout, stderr) => (err ? reject(new Failure(`go build: ${err.message}\n${stderr}`)) : resolve()));
  });
  log(`built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return bin;
}

// startTaskql starts `bin serve` on 127.0.0.1 (a port the system picks), in development mode,
// on a new SQLite database in dir, and waits for its address. The environment is the caller's
// without the settings of serve (TASKQL_*, DATABASE_URL, PORT), so that they do not change what
// is checked.
export async function startTaskql(bin, dir) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) =>
    !k.startsWith('TASKQL_') && k !== 'DATABASE_URL' && k !== 'PORT'));
  env.DATABASE_URL = `sqlite:${path.join(dir, 'x.db')}`;
  const child = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--env', 'development'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = [];
  const stderr = [];
  createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const spawned = new Promise((resolve, reject) => {
    child.on('spawn', resolve);
    child.on('error', (err) => reject(new Failure(`start ${bin}: ${err.message}`)));
  });
  const announced = new Promise((resolve) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      stdout.push(l);
      const m = ANNOUNCE.exec(l);
      if (m) resolve(m[1]);
    });
  });
  await spawned;
  const server = {
    pid: child.pid,
    baseUrl: null,
    log: () => [...stdout, ...stderr].join('\n'),
    // stop sends SIGTERM to the process and waits for it, then SIGKILL; it says how it ended.
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return 'had already exited';
      process.kill(child.pid, 'SIGTERM');
      let timer;
      const late = new Promise((resolve) => { timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS); });
      const ended = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (ended) return ended.code === 0 ? 'stopped' : `exited with ${ended.code ?? ended.signal} after SIGTERM`;
      process.kill(child.pid, 'SIGKILL');
      await exited;
      return `killed: still running ${STOP_TIMEOUT_MS / 1000} s after SIGTERM`;
    },
  };
  let timer;
  const outcome = await Promise.race([
    announced.then((url) => ({ url })),
    exited.then((e) => ({ exited: e })),
    new Promise((resolve) => { timer = setTimeout(() => resolve({ late: true }), LISTEN_TIMEOUT_MS); }),
  ]);
  clearTimeout(timer);
  if (!outcome.url) {
    await server.stop();
    const why = outcome.exited ? `exited (${outcome.exited.code ?? outcome.exited.signal})` : `printed no address in ${LISTEN_TIMEOUT_MS / 1000} s`;
    throw new Failure(`taskql serve ${why}; its output:\n${server.log()}`);
  }
  if (!stdout.some((l) => l.includes('loaded the demo world'))) {
    await server.stop();
    throw new Failure(`taskql serve did not load the demo world; its output:\n${server.log()}`);
  }
  server.baseUrl = outcome.url;
  return server;
}
