// The smallest reverse proxy Node's HTTP stack allows, as a reference for `npm run bench proxy`:
// http.createServer in front of one upstream through a keep-alive http.Agent, no routing, no
// limits, no header rewriting beyond X-Forwarded-For. What Node itself costs per request.
// usage: node bench/bare-node-proxy.cjs LISTEN_PORT UPSTREAM_PORT
const http = require('node:http');

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, scheduling: 'lifo' });
http
  .createServer((req, res) => {
    const headers = req.rawHeaders.concat('X-Forwarded-For', req.socket.remoteAddress);
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
  })
  .listen(port, '127.0.0.1');
