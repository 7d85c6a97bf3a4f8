// Package gopeers tests the whole server in-process with Go WebRTC clients
// (internal/testclient) that publish known media, count what arrives and
// misbehave on purpose: meetings, moderation against lying clients,
// revocations, recording, faults. The browser tests are in e2e itself.
package gopeers
