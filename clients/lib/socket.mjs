// A raw WebSocket (the ws package) for the graphql-transport-ws protocol, where the npm
// graphql-ws client cannot misbehave on purpose: it sends what it is told and records what comes
// back, a message or the close, with bounded waits.

import WebSocket from 'ws';
import { Failure } from './check.mjs';

const OPEN_TIMEOUT_MS = 5_000;

// Socket is one connection; its messages and its close are queued for the waits below.
export class Socket {
  static async open(url, protocol = 'graphql-transport-ws') {
    const s = new Socket(new WebSocket(url, protocol, { handshakeTimeout: OPEN_TIMEOUT_MS }));
    await new Promise((resolve, reject) => {
      s.ws.once('open', resolve);
      s.ws.once('error', (err) => reject(new Failure(`WebSocket ${url}: ${err.message}`)));
    });
    s.openedAt = performance.now();
    return s;
  }

  constructor(ws) {
    this.ws = ws;
    this.inbox = []; // messages not yet taken, parsed
    this.close = null; // { code, reason, at } once closed
    this.wake = () => {};
    ws.on('message', (data) => {
      let m;
      try {
        m = JSON.parse(String(data));
      } catch {
        m = { unparsable: String(data) };
      }
      this.inbox.push(m);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.close = { code, reason: String(reason), at: performance.now() };
      this.wake();
    });
    ws.on('error', () => {}); // the close follows
  }

  send(message) {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  // until waits at most ms for cond() to return something, then returns it.
  async until(cond, ms, what) {
    const deadline = performance.now() + ms;
    for (;;) {
      const v = cond();
      if (v) return v;
      const left = deadline - performance.now();
      if (left <= 0) throw new Failure(`${what}: nothing within ${ms} ms (received ${this.describe()})`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  // next takes the next message, waiting at most ms; a close instead is a failure.
  async next(ms, what) {
    const got = await this.until(() => this.inbox.shift() ?? (this.close && { closed: this.close }), ms, what);
    if (got.closed) throw new Failure(`${what}: the socket closed with ${got.closed.code} "${got.closed.reason}"`);
    return got;
  }

  // closed waits at most ms for the close and returns it, with the messages received before it.
  async closed(ms, what) {
    const close = await this.until(() => this.close, ms, what);
    return { ...close, before: this.inbox.splice(0) };
  }

  // quiet checks that nothing arrives and the socket stays open for ms.
  async quiet(ms, what) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.inbox.length > 0 || this.close) throw new Failure(`${what}: want nothing for ${ms} ms, received ${this.describe()}`);
  }

  // init sends connection_init with the token and waits for connection_ack.
  async init(token, ms = 5_000) {
    this.send({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } });
    const ack = await this.next(ms, 'connection_ack');
    if (ack.type !== 'connection_ack') throw new Failure(`after connection_init: ${JSON.stringify(ack)}, want connection_ack`);
  }

  describe() {
    const parts = this.inbox.map((m) => JSON.stringify(m));
    if (this.close) parts.push(`close ${this.close.code} "${this.close.reason}"`);
    return parts.join(', ') || 'nothing';
  }

  end() {
    if (!this.close) this.ws.terminate();
  }
}
