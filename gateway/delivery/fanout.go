package delivery

// Follower is a remote follower's delivery addresses, from its actor
// document.
type Follower struct {
	// Inbox is the follower's own inbox.
	Inbox string
	// SharedInbox is its server's shared inbox (endpoints.sharedInbox),
	// "" when the server has none.
	SharedInbox string
}

// SharedInboxes returns the inboxes one activity must be POSTed to so that
// every follower gets it: each server's shared inbox once, and the
// follower's own inbox where its server has no shared inbox. The order is
// that of first appearance.
func SharedInboxes(followers []Follower) []string {
	seen := make(map[string]bool, len(followers))
	var out []string
	for _, f := range followers {
		in := f.SharedInbox
		if in == "" {
			in = f.Inbox
		}
		if in == "" || seen[in] {
			continue
		}
		seen[in] = true
		out = append(out, in)
	}
	return out
}
