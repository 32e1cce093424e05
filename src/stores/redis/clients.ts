// The Redis clients the store accepts, typed by shape (no runtime import of ioredis or redis), and
// the drivers that make them look alike: one `send(key, args, options)` whatever the client.

import { isObject } from '../../core/plain.js'

/** An ioredis `Redis` (standalone or Sentinel) or `Cluster`, as far as the store uses it. */
export interface IoRedisLike {
  readonly isCluster: boolean
  call(...args: any[]): Promise<unknown>
  multi(...args: any[]): any
}

/** A node-redis v4+ client from `createClient()`, as far as the store uses it. */
export interface NodeRedisClientLike {
  sendCommand(args: any, options?: any): Promise<unknown>
  multi(...args: any[]): any
}

/** A node-redis v4+ cluster from `createCluster()`, as far as the store uses it. */
export interface NodeRedisClusterLike {
  readonly masters: unknown
  sendCommand(firstKey: any, isReadonly: any, args: any, options?: any): Promise<unknown>
  multi(...args: any[]): any
}

/** A node-redis v5 Sentinel client from `createSentinel()`, as far as the store uses it. */
export interface NodeRedisSentinelLike {
  getSentinelNode(...args: any[]): unknown
  sendCommand(isReadonly: any, args: any, options?: any): Promise<unknown>
  multi(...args: any[]): any
}

/** Any client {@link RedisStore} accepts. */
export type RedisClientLike = IoRedisLike | NodeRedisClientLike | NodeRedisClusterLike | NodeRedisSentinelLike

/** What node-redis takes with a command: the signal that drops it while still queued (v5 abortSignal, v4 signal). */
export interface CommandOptions {
  readonly abortSignal: AbortSignal
  readonly signal: AbortSignal
}

/** The one thing the store needs from any client: send one command (`key` routes it in a cluster). */
export interface Driver {
  readonly cluster: boolean
  /** Whether `send` honours `options` (node-redis): a command still queued when its signal aborts is dropped, never sent later. */
  readonly abortable: boolean
  send(key: string, args: string[], options: CommandOptions | undefined): Promise<unknown>
}

function ioredisDriver(client: IoRedisLike): Driver {
  return {
    cluster: client.isCluster === true,
    abortable: false,
    send: (_key, args) => client.call(...args),
  }
}

function nodeRedisDriver(client: NodeRedisClientLike): Driver {
  return { cluster: false, abortable: true, send: (_key, args, options) => client.sendCommand(args, options) }
}

function nodeRedisClusterDriver(client: NodeRedisClusterLike): Driver {
  return { cluster: true, abortable: true, send: (key, args, options) => client.sendCommand(key, false, args, options) }
}

function nodeRedisSentinelDriver(client: NodeRedisSentinelLike): Driver {
  return { cluster: false, abortable: true, send: (_key, args, options) => client.sendCommand(false, args, options) }
}

/** The driver of a client, told apart by shape; a TypeError naming the option for anything else. */
export function driverFor(client: unknown): Driver {
  if (isObject(client)) {
    if (typeof client.call === 'function' && typeof client.isCluster === 'boolean' && typeof client.multi === 'function') {
      return ioredisDriver(client as IoRedisLike)
    }
    if (typeof client.sendCommand === 'function' && typeof client.multi === 'function') {
      if (typeof client.getSentinelNode === 'function') return nodeRedisSentinelDriver(client as NodeRedisSentinelLike)
      return 'masters' in client || typeof client.nodeClient === 'function'
        ? nodeRedisClusterDriver(client as NodeRedisClusterLike)
        : nodeRedisDriver(client as NodeRedisClientLike)
    }
  }
  throw new TypeError(
    'RedisStore option client must be an ioredis Redis or Cluster, or a node-redis client, cluster or sentinel (createClient() / createCluster() / createSentinel())',
  )
}
