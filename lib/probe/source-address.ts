import dgram from 'node:dgram';
import net from 'node:net';

/**
 * The local address the kernel would use to reach `host`, found without sending a packet
 * (a connected UDP socket only consults the routing table). Lets the collector look for the
 * probe's own address in hosts.deny while the probe is still running.
 */
export function sourceAddressFor(host: string, port: number): Promise<string | undefined> {
  const family = net.isIPv6(host) ? 'udp6' : 'udp4';
  return new Promise((resolve) => {
    const socket = dgram.createSocket(family);
    const done = (value: string | undefined) => {
      try {
        socket.close();
      } catch {
        // already closed
      }
      resolve(value);
    };
    socket.on('error', () => done(undefined));
    try {
      socket.connect(port, host, () => {
        try {
          const address = socket.address().address.replace(/^::ffff:/, '');
          // No route: some stacks bind the unspecified address instead of failing.
          done(address === '0.0.0.0' || address === '::' ? undefined : address);
        } catch {
          done(undefined);
        }
      });
    } catch {
      done(undefined);
    }
  });
}
