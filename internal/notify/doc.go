// Package notify tells people and monitoring systems what robo did: it
// sends an Event (a set's outcome, a stale set, a test) to the notifiers of
// the configuration's notify blocks, over a webhook (a JSON POST, or the
// healthchecks.io ping convention) or SMTP (plain-text email).
//
// A Dispatcher picks the notifiers for each event by outcome class
// (failure, success, stale) and set filter, sends with each notifier's
// timeout (even when the caller's context was cancelled: a stopped run is
// still reported), and returns one Report per attempt. It never fails the
// caller: cmd/robo prints failed reports as warnings and records every one
// in the audit trail.
//
// What is never sent or printed: secret values (an SMTP password or a URL
// given as secret("name") is resolved only to send), and a webhook URL in
// full, since its path or query often is a token: Target and every error
// show it as scheme://host/….
package notify
