// Package ipfs is Lyceum's content layer: it stores blocks and pins on disk,
// imports and exports UnixFS files and directories with the same CIDs Kubo
// produces, moves blocks between peers with bitswap, announces what the node
// holds to a content router, and imports and exports CAR archives.
//
// It knows nothing about resources, activities or any other meaning of the
// bytes it stores; the node package gives that meaning.
//
// The three types follow the order the node wires them in:
//
//   - [Store] is the storage: a flatfs blockstore for blocks and a pebble
//     datastore for pins, provider state and the node's small records.
//   - [Exchange] is the network side: bitswap over a libp2p host, DAG
//     streams ([DAGProtocol]: a whole DAG in one stream from a peer that
//     has it, each block checked against the CID expected next) in front
//     of it, and a background provider that announces only roots, never
//     every chunk.
//   - [Content] is the set of operations (add, cat, get, pin, GC, CAR) over
//     a Store and an optional Exchange; without one it works offline.
//
// Durability: an import or a fetch writes its blocks without waiting for
// the disk; an import syncs them all once before it returns, and a pin
// syncs whatever it keeps before it is recorded, so whatever the package
// acknowledged survives a power cut.
//
// The package keeps no global state: UnixFS import settings are passed to
// boxo per import, never through boxo's package-level defaults, so several
// nodes with different settings can run in one process.
package ipfs
