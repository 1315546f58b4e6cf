package snapshot

func detect(source string) (*volume, error) {
	return nil, &UnsupportedError{Source: source, Why: "VSS is not built yet"}
}
