/**
 * Deterministic, realistic flow-log records for tests, the simulator and benchmarks: VNet (flowLogVersion 4)
 * and NSG (version 2) records in Network Watcher's compact JSON, with tuples that follow
 * docs/azure-facts.md (B/D tuples with zero or empty counters, IPv4 and IPv6, seconds for NSG, ms for VNet).
 */

export type FlowLogKind = 'vnet' | 'nsg';

export interface NicIdentity {
  kind: FlowLogKind;
  macAddress: string;
  privateIp: string;
  subscription: string;
  resourceGroup: string;
  region: string;
  /** VNet: the flow log's name; NSG: the NSG's name. */
  resourceName: string;
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FlowLogGenerator {
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  nic(kind: FlowLogKind, index: number): NicIdentity {
    const mac = `002248${(0x100000 + index * 7919).toString(16).toUpperCase().padStart(6, '0').slice(-6)}`;
    return {
      kind,
      macAddress: mac,
      privateIp: `10.${1 + (index >> 16) % 250}.${(index >> 8) & 255}.${4 + (index & 0xfb)}`,
      subscription: '00000000-0000-0000-0000-000000000000',
      resourceGroup: 'flowlog-demo-rg',
      region: 'westeurope',
      resourceName: kind === 'vnet' ? 'vnet-flowlog' : `vm${index}-nsg`,
    };
  }

  /** The blob path Network Watcher uses for this NIC and hour (the part before `y=` varies; see azure-facts). */
  blobPath(nic: NicIdentity, hour: Date): string {
    const sub = nic.subscription.toUpperCase();
    const rg = nic.resourceGroup.toUpperCase();
    const resource =
      nic.kind === 'vnet'
        ? `flowLogResourceID=/SUBSCRIPTIONS/${sub}/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_${nic.region.toUpperCase()}/FLOWLOGS/${nic.resourceName.toUpperCase()}`
        : `resourceId=/SUBSCRIPTIONS/${sub}/RESOURCEGROUPS/${rg}/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/${nic.resourceName.toUpperCase()}`;
    const p = (n: number): string => String(n).padStart(2, '0');
    return `${resource}/y=${hour.getUTCFullYear()}/m=${p(hour.getUTCMonth() + 1)}/d=${p(hour.getUTCDate())}/h=${p(hour.getUTCHours())}/m=00/macAddress=${nic.macAddress}/PT1H.json`;
  }

  /** One record as Network Watcher writes it for the minute ending at `time`, with about `tuples` tuples. */
  record(nic: NicIdentity, time: Date, tuples: number): string {
    return JSON.stringify(nic.kind === 'vnet' ? this.vnetRecord(nic, time, tuples) : this.nsgRecord(nic, time, tuples));
  }

  private vnetRecord(nic: NicIdentity, time: Date, tupleCount: number): object {
    const sub = nic.subscription;
    const allowTuples = Math.ceil(tupleCount * 0.7);
    const flows = [
      {
        aclID: this.guid(),
        flowGroups: [
          { rule: 'DefaultRule_AllowInternetOutBound', flowTuples: this.repeat(Math.ceil(allowTuples / 2), () => this.vnetTuple(nic, time, 'O')) },
          { rule: 'DefaultRule_AllowVnetInBound', flowTuples: this.repeat(Math.floor(allowTuples / 2), () => this.vnetTuple(nic, time, 'I')) },
        ],
      },
      {
        aclID: this.guid(),
        flowGroups: [{ rule: 'BlockHighRiskTCPPortsFromInternet', flowTuples: this.repeat(tupleCount - allowTuples, () => this.vnetTuple(nic, time, 'I', 'D')) }],
      },
    ];
    return {
      time: time.toISOString().replace('Z', '0000Z'),
      flowLogVersion: 4,
      flowLogGUID: this.guid(),
      macAddress: nic.macAddress,
      category: 'FlowLogFlowEvent',
      flowLogResourceID: `/SUBSCRIPTIONS/${sub.toUpperCase()}/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_${nic.region.toUpperCase()}/FLOWLOGS/${nic.resourceName.toUpperCase()}`,
      targetResourceID: `/subscriptions/${sub}/resourceGroups/${nic.resourceGroup}/providers/Microsoft.Network/virtualNetworks/demo-vnet`,
      operationName: 'FlowLogFlowEvent',
      flowRecords: { flows },
    };
  }

  private nsgRecord(nic: NicIdentity, time: Date, tupleCount: number): object {
    const inbound = Math.floor(tupleCount / 3);
    return {
      time: time.toISOString().replace('Z', '0000Z'),
      systemId: this.guid(),
      macAddress: nic.macAddress,
      category: 'NetworkSecurityGroupFlowEvent',
      resourceId: `/SUBSCRIPTIONS/${nic.subscription.toUpperCase()}/RESOURCEGROUPS/${nic.resourceGroup.toUpperCase()}/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/${nic.resourceName.toUpperCase()}`,
      operationName: 'NetworkSecurityGroupFlowEvents',
      properties: {
        Version: 2,
        flows: [
          { rule: 'DefaultRule_DenyAllInBound', flows: [{ mac: nic.macAddress, flowTuples: this.repeat(inbound, () => this.nsgTuple(nic, time, 'I', 'D')) }] },
          { rule: 'DefaultRule_AllowInternetOutBound', flows: [{ mac: nic.macAddress, flowTuples: this.repeat(tupleCount - inbound, () => this.nsgTuple(nic, time, 'O', 'A')) }] },
        ],
      },
    };
  }

  private vnetTuple(nic: NicIdentity, time: Date, direction: 'I' | 'O', forcedState?: 'D'): string {
    const ms = time.getTime() - Math.floor(this.random() * 60_000);
    const remote = this.random() < 0.1 ? this.ipv6() : this.publicIp();
    const local = remote.includes(':') ? 'fd00:10::4' : nic.privateIp;
    const [src, dst] = direction === 'O' ? [local, remote] : [remote, local];
    const protocol = this.pick([6, 6, 6, 17, 17, 1]);
    const ports = protocol === 1 ? [0, 0] : [1024 + Math.floor(this.random() * 64000), this.pick([443, 80, 22, 53, 3389, 8080])];
    const state = forcedState ?? this.pick(['B', 'C', 'E', 'E'] as const);
    const counters = state === 'B' || state === 'D' ? (this.random() < 0.5 ? '0,0,0,0' : ',,,') : this.counters();
    return `${ms},${src},${dst},${ports[0]},${ports[1]},${protocol},${direction},${state},NX,${counters}`;
  }

  private nsgTuple(nic: NicIdentity, time: Date, direction: 'I' | 'O', decision: 'A' | 'D'): string {
    const seconds = Math.floor(time.getTime() / 1000) - Math.floor(this.random() * 60);
    const remote = this.publicIp();
    const [src, dst] = direction === 'O' ? [nic.privateIp, remote] : [remote, nic.privateIp];
    const state = decision === 'D' ? 'B' : this.pick(['B', 'C', 'E'] as const);
    const counters = state === 'B' ? ',,,' : this.counters();
    return `${seconds},${src},${dst},${1024 + Math.floor(this.random() * 64000)},${this.pick([443, 80, 22, 3389])},${this.pick(['T', 'T', 'U'])},${direction},${decision},${state},${counters}`;
  }

  private counters(): string {
    const packetsOut = 1 + Math.floor(this.random() * 200);
    const packetsIn = Math.floor(this.random() * 300);
    return `${packetsOut},${packetsOut * (60 + Math.floor(this.random() * 1400))},${packetsIn},${packetsIn * (60 + Math.floor(this.random() * 1400))}`;
  }

  private publicIp(): string {
    return `${this.pick([13, 20, 40, 52, 104, 151, 185])}.${Math.floor(this.random() * 256)}.${Math.floor(this.random() * 256)}.${1 + Math.floor(this.random() * 254)}`;
  }

  private ipv6(): string {
    return `2603:1030:${Math.floor(this.random() * 0xffff).toString(16)}::${Math.floor(this.random() * 0xffff).toString(16)}`;
  }

  private guid(): string {
    const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(this.random() * 16).toString(16)).join('');
    return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private repeat(count: number, make: () => string): string[] {
    return Array.from({ length: Math.max(0, count) }, make);
  }
}
