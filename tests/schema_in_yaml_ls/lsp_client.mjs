// A minimal LSP client over stdio: Content-Length framing, requests with
// timeouts, answers to the server's own requests, and a wait for the first
// notification that matches. Enough to drive yaml-language-server.

import { spawn } from 'node:child_process';

const TIMEOUT_MS = 15000;

export class LspClient {
  /** `answer(method, params)` gives the result of a request the server sends. */
  constructor(command, args, answer) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.answer = answer;
    this.nextId = 1;
    this.pending = new Map();
    this.notifications = [];
    this.waiters = [];
    this.buffer = Buffer.alloc(0);
    this.stderr = '';
    this.child.stdout.on('data', (chunk) => this.receive(chunk));
    this.child.stderr.on('data', (chunk) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on('exit', resolve));
  }

  request(method, params) {
    const id = this.nextId++;
    this.send({ jsonrpc: '2.0', id, method, params });
    return this.withTimeout(
      new Promise((resolve, reject) => this.pending.set(id, { resolve, reject })),
      `no answer to ${method}`,
    );
  }

  notify(method, params) {
    this.send({ jsonrpc: '2.0', method, params });
  }

  /** The first notification (already received or still to come) that matches. */
  waitFor(method, matches) {
    const index = this.notifications.findIndex((n) => n.method === method && matches(n.params));
    if (index >= 0) return Promise.resolve(this.notifications.splice(index, 1)[0].params);
    return this.withTimeout(
      new Promise((resolve) => this.waiters.push({ method, matches, resolve })),
      `no ${method} notification came`,
    );
  }

  async shutdown() {
    await this.request('shutdown', null);
    this.notify('exit', null);
    await this.withTimeout(this.exited, 'the server did not exit').catch(() => this.child.kill());
  }

  send(message) {
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    this.child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.child.stdin.write(body);
  }

  receive(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString())[1]);
      if (this.buffer.length < end + 4 + length) return;
      const message = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString('utf8'));
      this.buffer = this.buffer.subarray(end + 4 + length);
      this.dispatch(message);
    }
  }

  dispatch(message) {
    if (message.id !== undefined && message.method) {
      Promise.resolve(this.answer(message.method, message.params)).then((result) =>
        this.send({ jsonrpc: '2.0', id: message.id, result: result ?? null }),
      );
    } else if (message.id !== undefined) {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiting?.reject(new Error(JSON.stringify(message.error)));
      else waiting?.resolve(message.result);
    } else {
      const index = this.waiters.findIndex((w) => w.method === message.method && w.matches(message.params));
      if (index >= 0) this.waiters.splice(index, 1)[0].resolve(message.params);
      else this.notifications.push(message);
    }
  }

  withTimeout(promise, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${TIMEOUT_MS} ms\n${this.stderr}`)), TIMEOUT_MS);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}
