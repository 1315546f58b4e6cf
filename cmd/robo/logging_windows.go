package main

import "github.com/kardianos/service"

// The service's Windows logger takes event IDs (newServiceSink relies on it).
var _ eventLogger = service.WindowsLogger{}
