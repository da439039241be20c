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
