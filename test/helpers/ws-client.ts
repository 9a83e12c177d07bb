import type { WebSocket } from 'ws';

/** The HTTP status a websocket's upgrade was refused with (its handshake got no 101). */
export function refusedStatus(ws: WebSocket): Promise<number> {
  ws.on('error', () => {});
  return new Promise<number>((resolve) =>
    ws.once('unexpected-response', (req, res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    }),
  );
}

/** Opens a websocket, sends `message` and returns the first message echoed back; the socket stays open. */
export async function openAndEcho(ws: WebSocket, message: string): Promise<string> {
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const reply = new Promise<string>((resolve) => ws.once('message', (m) => resolve(String(m))));
  ws.send(message);
  return reply;
}
