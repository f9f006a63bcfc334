// Package clientip tells who made an HTTP request, for rate limits: the
// connection's address, or, behind a trusted reverse proxy, the address
// that proxy saw. Every surface of the gateway that limits clients uses
// it, so that they all count the same client the same way.
package clientip
