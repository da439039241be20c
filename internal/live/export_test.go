package live

// Test hooks for the external test package.

// PauseAfterReplay makes every subscribe call fn between its database replay
// and joining the live stream.
func PauseAfterReplay(h *Hub, fn func(topic string)) { h.afterReplay = fn }

// SetRingFrames shrinks the topics' ring so tests can outrun it.
func SetRingFrames(h *Hub, n int) { h.set.RingFrames = n }

// TopicSeq is the last seq a topic delivered on this instance (0 if inactive).
func TopicSeq(h *Hub, name string) int64 {
	h.mu.Lock()
	t := h.topics[name]
	h.mu.Unlock()
	if t == nil {
		return 0
	}
	return t.latest.Load()
}

// PresenceChange counts a connection of user in (join) or out of a topic's
// presence, as a subscribe or an unsubscribe does.
func PresenceChange(h *Hub, topic string, userID int64, join bool) {
	if join {
		h.joined(topic, userID)
	} else {
		h.left(topic, userID)
	}
}

// WaitPresence returns once every presence change so far is written.
func WaitPresence(h *Hub) { h.presenceIdle.Wait() }

// Instance is the hub's id in live_presence.
func Instance(h *Hub) string { return h.instance }

// Trace makes the hub call fn as a chat message passes each stage of its way
// between instances (benchmarks only).
func Trace(h *Hub, fn func(stage, topic string, seq int64)) {
	if fn == nil {
		h.trace.Store(nil)
		return
	}
	f := traceFunc(fn)
	h.trace.Store(&f)
}
