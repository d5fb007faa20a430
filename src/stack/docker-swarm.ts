// The Docker client's swarm part: the manager's view of a swarm (its state, nodes, join token) and the node
// containers faultline runs as workers (docker-in-docker). Handed the client's own dockerode handle, like
// docker-images.ts; nothing outside src/stack/docker-*.ts sees dockerode.

import type Docker from 'dockerode';
import { FaultlineError } from '../errors.js';
import { isNotFound } from './docker-types.js';

/** This engine's place in a swarm, as `docker info` reports it. */
export interface SwarmMembership {
  /** inactive, pending, active, error, locked. */
  state: string;
  nodeId: string;
  isManager: boolean;
  /** The address other nodes reach this one at (empty when not in a swarm). */
  nodeAddr: string;
}

export interface SwarmNode {
  id: string;
  hostname: string;
  role: 'manager' | 'worker';
  /** ready, down, unknown, disconnected. */
  state: string;
  /** active, pause, drain. */
  availability: string;
  addr: string;
  labels: Record<string, string>;
}

/** One task of a service, as the manager lists it: where it runs and which container runs it. */
export interface SwarmTask {
  id: string;
  /** The service's full name (`<stack>_<service>` for a stack's). */
  service: string;
  slot: number | undefined;
  nodeId: string;
  /** new … running, complete, failed, shutdown, rejected, orphaned, remove. */
  state: string;
  desiredState: string;
  /** Empty until the node created the container. */
  containerId: string;
  /** The labels of the service's container spec (not the image's). */
  labels: Record<string, string>;
  /** network name → IPv4 address (without its prefix length). */
  addresses: Record<string, string>;
}

/** A swarm node faultline runs as a container on this engine (docker-in-docker). */
export interface NodeContainerSpec {
  name: string;
  hostname: string;
  image: string;
  labels: Record<string, string>;
  /** host:container bind mounts beside the cgroup tree (the folder the node's engine socket appears in). */
  binds?: string[];
}

/** The label on every node container faultline starts, with the node's name: how `swarm down` finds them all. */
export const SWARM_NODE_LABEL = 'faultline.swarm-node';

export class DockerSwarm {
  constructor(private readonly api: Docker) {}

  async membership(): Promise<SwarmMembership> {
    const info = (await this.api.info()) as { Swarm?: { LocalNodeState?: string; NodeID?: string; ControlAvailable?: boolean; NodeAddr?: string } };
    const s = info.Swarm ?? {};
    return { state: s.LocalNodeState ?? 'inactive', nodeId: s.NodeID ?? '', isManager: Boolean(s.ControlAvailable), nodeAddr: s.NodeAddr ?? '' };
  }

  /** Makes this engine the manager of a new swarm; returns its node id. */
  async init(advertiseAddr: string): Promise<string> {
    return (await this.api.swarmInit({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: advertiseAddr, ForceNewCluster: false })) as string;
  }

  /** The token a worker joins with (only a manager knows it). */
  async workerToken(): Promise<string> {
    const swarm = (await this.api.swarmInspect()) as { JoinTokens?: { Worker?: string } };
    const token = swarm.JoinTokens?.Worker;
    if (!token) throw new FaultlineError('SWARM_FAILED', 'the swarm manager gave no worker join token');
    return token;
  }

  async leave(): Promise<void> {
    await this.api.swarmLeave({ force: true });
  }

  async nodes(): Promise<SwarmNode[]> {
    const list = (await this.api.listNodes()) as Array<{
      ID: string;
      Description?: { Hostname?: string };
      Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> };
      Status?: { State?: string; Addr?: string };
    }>;
    return list.map((n) => ({
      id: n.ID,
      hostname: n.Description?.Hostname ?? '',
      role: n.Spec?.Role === 'manager' ? 'manager' : 'worker',
      state: n.Status?.State ?? 'unknown',
      availability: n.Spec?.Availability ?? 'active',
      addr: n.Status?.Addr ?? '',
      labels: n.Spec?.Labels ?? {},
    }));
  }

  /** The tasks of the services labelled com.docker.stack.namespace=<stack> (the manager's view; one call per service). */
  async stackTasks(stack: string): Promise<SwarmTask[]> {
    const services = (await this.api.listServices({ filters: { label: [`com.docker.stack.namespace=${stack}`] } })) as Array<{
      ID: string;
      Spec?: { Name?: string };
    }>;
    const names = new Map(services.map((s) => [s.ID, s.Spec?.Name ?? s.ID]));
    if (names.size === 0) return [];
    const list = (await this.api.listTasks({ filters: { service: [...names.keys()] } })) as Array<{
      ID: string;
      ServiceID: string;
      Slot?: number;
      NodeID?: string;
      DesiredState?: string;
      Status?: { State?: string; ContainerStatus?: { ContainerID?: string } };
      Spec?: { ContainerSpec?: { Labels?: Record<string, string> } };
      NetworksAttachments?: Array<{ Network?: { Spec?: { Name?: string } }; Addresses?: string[] }>;
    }>;
    return list.map((t) => ({
      id: t.ID,
      service: names.get(t.ServiceID) ?? t.ServiceID,
      slot: t.Slot,
      nodeId: t.NodeID ?? '',
      state: t.Status?.State ?? 'unknown',
      desiredState: t.DesiredState ?? '',
      containerId: t.Status?.ContainerStatus?.ContainerID ?? '',
      labels: t.Spec?.ContainerSpec?.Labels ?? {},
      addresses: Object.fromEntries(
        (t.NetworksAttachments ?? []).flatMap((a) => {
          const ip = a.Addresses?.[0]?.split('/')[0];
          return a.Network?.Spec?.Name && ip ? [[a.Network.Spec.Name, ip]] : [];
        }),
      ),
    }));
  }

  /** Removes a node from the swarm's list (a worker that left or is gone); a node already gone is not an error. */
  async removeNode(id: string): Promise<void> {
    try {
      await this.api.getNode(id).remove({ force: true });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** The gateway address of Docker's default bridge: where containers on this host reach the host's engine. */
  async bridgeGateway(): Promise<string> {
    const net = (await this.api.getNetwork('bridge').inspect()) as { IPAM?: { Config?: Array<{ Gateway?: string }> } };
    const gw = net.IPAM?.Config?.find((c) => c.Gateway && !c.Gateway.includes(':'))?.Gateway;
    if (!gw) throw new FaultlineError('SWARM_FAILED', "Docker's default bridge network has no IPv4 gateway to advertise the swarm on");
    return gw;
  }

  /**
   * Starts a worker's container: Debian's Docker engine inside, with what it needs on this kernel and nothing more
   * (--privileged fails here: CAP_SYS_RESOURCE is withheld). Its images live on a tmpfs, gone with the container.
   */
  async startNodeContainer(spec: NodeContainerSpec): Promise<string> {
    const container = await this.api.createContainer({
      Image: spec.image,
      name: spec.name,
      Hostname: spec.hostname,
      Labels: { ...spec.labels, [SWARM_NODE_LABEL]: spec.hostname },
      HostConfig: {
        CapAdd: ['SYS_ADMIN', 'NET_ADMIN'],
        SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
        Tmpfs: { '/var/lib/docker': '' },
        Binds: ['/sys/fs/cgroup:/sys/fs/cgroup:rw', ...(spec.binds ?? [])],
        Init: true,
      },
    });
    await container.start();
    return container.id;
  }

  /** Every node container faultline started on this engine: name and id. */
  async nodeContainers(): Promise<Array<{ id: string; name: string; hostname: string }>> {
    const list = await this.api.listContainers({ all: true, filters: { label: [SWARM_NODE_LABEL] } });
    return list.map((c) => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, ''), hostname: c.Labels[SWARM_NODE_LABEL] ?? '' }));
  }

  async removeNodeContainer(id: string): Promise<void> {
    try {
      await this.api.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
