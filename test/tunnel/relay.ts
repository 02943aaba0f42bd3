/**
 * A TCP relay in the test process: listens on one lab's host-side address and passes each connection on to another
 * lab. Lab network namespaces reach only their own veth (10.231.<n>.0/24, no default route) and this machine does
 * not forward between veths (net.ipv4.ip_forward stays as it is: tests do not change the machine's routing), so a
 * booted lab reaches another lab's sshd through this relay — the same way every lab already reaches its database
 * (a server of the test process on 10.231.<n>.1). Closing either side closes the other, as a routed connection would.
 */
import {createServer, connect, type Server, type Socket} from 'node:net'

export interface Relay {
  host: string
  port: number
  /** Connections passed on so far. */
  count(): number
  /** Cut every open connection (both sides), keep listening. */
  cut(): void
  close(): Promise<void>
}

export function startRelay(listenHost: string, to: {host: string; port: number}): Promise<Relay> {
  const sockets = new Set<Socket>()
  let n = 0
  const server: Server = createServer((inbound) => {
    n++
    const outbound = connect({host: to.host, port: to.port})
    for (const s of [inbound, outbound]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        inbound.destroy()
        outbound.destroy()
      })
    }
    inbound.pipe(outbound)
    outbound.pipe(inbound)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({host: listenHost, port: 0}, () => {
      const addr = server.address()
      if (addr === null || typeof addr === 'string') return reject(new Error('relay has no port'))
      resolve({
        host: listenHost,
        port: addr.port,
        count: () => n,
        cut: () => {
          for (const s of sockets) s.destroy()
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          }),
      })
    })
  })
}
