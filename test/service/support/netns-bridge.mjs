// Runs inside the observed stack's network namespace (observed-stack.ts): joins that
// namespace's loopback to the test process through Unix sockets, which both sides see in the
// filesystem. Each argument is `unix:PATH=tcp:PORT` (connections to the socket go to
// 127.0.0.1:PORT in the namespace) or `tcp:PORT=unix:PATH` (127.0.0.1:PORT in the namespace
// reaches the test's socket, e.g. its chat stand-in). Prints `bridge ready` when listening.
import { createConnection, createServer } from 'node:net';
import { rmSync } from 'node:fs';

const pipe = (from, connect) => {
  const to = connect();
  from.pipe(to).pipe(from);
  const end = () => {
    from.destroy();
    to.destroy();
  };
  from.on('error', end);
  to.on('error', end);
};

const listening = process.argv.slice(2).map((arg) => {
  const [listen, target] = arg.split('=');
  const [kind, where] = [listen.slice(0, listen.indexOf(':')), listen.slice(listen.indexOf(':') + 1)];
  const to = target.slice(target.indexOf(':') + 1);
  const connect = target.startsWith('tcp:') ? () => createConnection({ host: '127.0.0.1', port: Number(to) }) : () => createConnection({ path: to });
  const server = createServer((socket) => pipe(socket, connect));
  if (kind === 'unix') rmSync(where, { force: true });
  return new Promise((resolve) => (kind === 'unix' ? server.listen(where, resolve) : server.listen(Number(where), '127.0.0.1', resolve)));
});
await Promise.all(listening);
console.log('bridge ready');
