// The frame of a browser script (playground.mjs, app.mjs): every run ends within its bound, a
// failure prints its report and what the script gathered, and the browser is closed either way.

// step logs a step of the run with the seconds since the process started.
export function step(message) {
  console.log(`[${elapsed()}] ${message}`);
}

export const elapsed = () => `${(performance.now() / 1000).toFixed(1)} s`;

// boundedRun starts the run's clock: after timeoutMs the run fails. close closes the browser;
// report prints (and saves) what tells why a run failed. It returns fail(message), which reports
// and exits 1, and finish(code), which exits with code; both close the browser first, and exit
// anyway if it will not close.
export function boundedRun({ timeoutMs, close, report }) {
  let finishing = false;
  const timer = setTimeout(() => fail(`the run took more than ${timeoutMs / 1000} s`), timeoutMs);

  async function finish(code) {
    if (finishing) return;
    finishing = true;
    clearTimeout(timer);
    setTimeout(() => process.exit(code), 10_000).unref(); // a browser that will not close
    try {
      await close();
    } catch {
      // closing is best effort
    }
    process.exitCode = code;
    setTimeout(() => process.exit(code), 50).unref();
  }

  async function fail(message) {
    console.error(`FAIL: ${message}`);
    await report();
    await finish(1);
  }

  return { fail, finish };
}
