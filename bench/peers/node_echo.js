#!/usr/bin/env node
// Echo server (RFC 862) with Node.js's net module: each socket piped back into itself, which
// also applies back-pressure when the client reads slower than it writes. TCP_NODELAY is set, as
// the other servers of bench/ do (Node.js leaves Nagle's algorithm on by default).
//
// usage: node node_echo.js PORT   (0 picks a free port) on 127.0.0.1; prints "listening on
// ADDR:PORT" to stderr. SIGTERM or SIGINT stop it (exit 0).
'use strict';
const net = require('net');

const port = Number(process.argv[2]);
if (process.argv.length !== 3 || !Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: node node_echo.js PORT');
  process.exit(2);
}

const server = net.createServer((socket) => {
  socket.on('error', () => socket.destroy());  // resets are the client's business
  socket.setNoDelay(true);  // as reactord, Go and uvloop do: no Nagle delay on short writes
  socket.pipe(socket);
});
server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  const { address, port: bound } = server.address();
  console.error(`node_echo: listening on ${address}:${bound}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
