/**
 * Vendor presets for reverse tunnels, as data: what each vendor's own document (the manual pages bastion was written
 * against) says about its tunnel server. Every field can be overridden with the matching flag; a field the vendor
 * assigns per connection (its form shows it) has no default and must be given.
 */

export interface TunnelPreset {
  /** The vendor as its document names it. */
  title: string
  /** The tunnel server's host name; absent when the vendor assigns one per connection. */
  server?: string
  /** The tunnel server's SSH port. */
  serverPort: number
  /** The login on the tunnel server; `{remote-port}` stands for the remote port (Chartio: tunnel12345 for port 12345). */
  serverUser?: string
  /** Ports the vendor lets a tunnel use on its server, when it publishes a range (inclusive). */
  remotePortRange?: [number, number]
  /** Where the remote port comes from when there is no range to choose from. */
  remotePortNote: string
  /** The vendor's -R listens on every address of its server (`-R *:port:…`), not only its loopback. */
  bindAll: boolean
  /** The server's host key as the vendor publishes it (a known_hosts line), when it does. */
  hostKey?: string
  /** How the vendor's document sets the tunnel up (why bastion's way differs). */
  source: string
}

export const PRESETS = {
  chartio: {
    title: 'Chartio',
    server: 'connect.chartio.com',
    serverPort: 22,
    serverUser: 'tunnel{remote-port}',
    remotePortNote: "Chartio's connection form generates the command with the port (autossh -R 12345:… tunnel12345@connect.chartio.com)",
    bindAll: false,
    hostKey:
      'connect.chartio.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDC6wbEvCi6sz9Igw7uyQ9cIMpiRzkxO/TUEuIM+FIiE1knM9J4VlBz5CFYQZ09OW9ZpPtEDtuumPNtcHJ2xmTZ/6AYvxT5i5A7at83nzG7yM+ErpZ83lB2st9xJ/AzvCopJxvR25kt29dwjstWiDv0tepP3ywBkAWigbpWcATZPjY3vsD/T0QhNzPeP9Xy1WbsbTVS0JAEBaOzmrDQQXuNxV+xtZP2o9CQUwjNMXTI2NL1A7D9wy408sjyNADcWQstIgNf8Uxv/eSo7e7y2g/YEi8gNIApNVcPwZ9dgfg6MK4xAW1TeN4hxrFLm2KKtyRIvwRoCYckpD2IokVK+yU/',
    source: 'autossh from a crontab @reboot line; the host key is given in the document',
  },
  'integrate-io': {
    title: 'Integrate.io ETL',
    serverPort: 50683,
    serverUser: 'sshtunnel',
    remotePortNote: 'the connection\'s "tunnel server:port" box in Integrate.io gives the server (before the colon) and the port (after it)',
    bindAll: false,
    source: 'autossh from a crontab @reboot line; the host key is taken with ssh-keyscan (trust on first use)',
  },
  holistics: {
    title: 'Holistics',
    server: 'tunnel.holistics.io',
    serverPort: 50022,
    serverUser: 'autossh',
    remotePortRange: [20000, 20100],
    remotePortNote: 'Holistics opened 20000-20100 for tunnels: pick a free port in that range (one per tunnel) and confirm it with Holistics',
    bindAll: true,
    source: 'autossh in GNU screen, or the h_autossh init.d service of their setup script',
  },
} as const satisfies Record<string, TunnelPreset>

export type PresetName = keyof typeof PRESETS

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[]

export function presetOf(name: string): TunnelPreset | undefined {
  return (PRESETS as Record<string, TunnelPreset>)[name]
}
