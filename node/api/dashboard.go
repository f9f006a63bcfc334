package api

import "time"

// Dashboard is what an operator sees of their node on one page.
type Dashboard struct {
	Node  Identity `json:"node"`
	Stat  Stat     `json:"stat"`
	Peers []Peer   `json:"peers"`
	// Reachability is what AutoNAT says of the node's addresses: public,
	// private or unknown ("" offline).
	Reachability string `json:"reachability"`
	// HQs are the configured HQs and whether they answered lately.
	HQs []HQStatus `json:"hqs"`
	// Accounts counts the node's accounts by status.
	Accounts     map[AccountStatus]int `json:"accounts"`
	Registration RegistrationMode      `json:"registration"`
}

// HQStatus is one HQ as the node last saw it.
type HQStatus struct {
	Peer      string    `json:"peer"`
	Connected bool      `json:"connected"`
	LastOK    time.Time `json:"last_ok,omitzero"`
	LastError string    `json:"last_error,omitempty"` // sanitized
	LastFail  time.Time `json:"last_fail,omitzero"`
}
