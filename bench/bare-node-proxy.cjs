// The smallest reverse proxy Node's HTTP stack allows, as a reference for `npm run bench proxy`:
// http.createServer in front of one upstream through a keep-alive http.Agent, no routing, no
// limits, no header rewriting beyond X-Forwarded-For. What Node itself costs per request. Its
// keep-alive timeout is paas's, so idle connections are measured open on both.
//
// With WORKERS > 1 it runs as paas's proxy does (src/proxy/process/cluster-workers.ts): the
// primary binds the port (pauseOnConnect), forks WORKERS - 1 node:cluster workers, serves as one
// of the lanes itself and hands each accepted connection to the next lane round-robin, a
// forked worker's over IPC with the socket as handle. (node:cluster's own round-robin would
// leave the primary idle and cost WORKERS + 1 processes.)
//
// With FORWARD=forward it also sends the forwarding headers paas sends (X-Forwarded-Proto,
// X-Forwarded-Host, X-Real-IP and a per-process X-Request-Id), so the bench can tell what those
// four header lines cost (written here, parsed by the upstream) from the rest of paas.
// usage: node bench/bare-node-proxy.cjs LISTEN_PORT UPSTREAM_PORT [WORKERS] [FORWARD]
const cluster = require('node:cluster');
const http = require('node:http');
const net = require('node:net');

const [port, upstreamPort, workers = 1] = process.argv.slice(2, 5).map(Number);
const forward = process.argv[5] === 'forward';
let ids = 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, scheduling: 'lifo' });
const server = http.createServer((req, res) => {
  const headers = req.rawHeaders.concat('X-Forwarded-For', req.socket.remoteAddress);
  if (forward) {
    headers.push(
      'X-Forwarded-Proto',
      'http',
      'X-Real-IP',
      req.socket.remoteAddress,
      'X-Request-Id',
      `b${process.pid}-${(++ids).toString(36)}`,
    );
    const host = req.headers.host;
    if (host !== undefined) headers.push('X-Forwarded-Host', host);
  }
  const up = http.request(
    { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers, agent, setHost: false },
    (r) => {
      res.writeHead(r.statusCode, r.rawHeaders);
      r.pipe(res);
    },
  );
  up.on('error', () => {
    res.statusCode = 502;
    res.end();
  });
  req.pipe(up);
});

// paas's (and nginx's) keep-alive timeout, 75 s, instead of Node's 5 s: the bench's idle
// connections must stay open while their memory is measured (settling takes up to 20 s)
server.keepAliveTimeout = 75_000;

/** A connection the primary accepted, served here. */
function serve(socket) {
  server.emit('connection', socket);
  socket.resume();
}

if (workers <= 1) {
  server.listen(port, '127.0.0.1');
} else if (cluster.isWorker) {
  process.on('message', (m, handle) => {
    if (m?.op === 'conn' && handle) serve(handle);
  });
} else {
  const lanes = [];
  for (let i = 1; i < workers; i++) lanes.push(cluster.fork());
  let next = 0;
  net
    .createServer({ pauseOnConnect: true }, (socket) => {
      const lane = next++ % workers;
      if (lane === lanes.length) serve(socket);
      else lanes[lane].send({ op: 'conn' }, socket, (err) => err && socket.destroy());
    })
    .listen(port, '127.0.0.1');
}
