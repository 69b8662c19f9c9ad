package store

// Charts returns the records of the Helm charts the store holds (images
// whose record has a Chart) named name, or every chart for "", in record
// name order.
func (c *Catalog) Charts(name string) ([]ImageRecord, error) {
	all, err := c.Images()
	if err != nil {
		return nil, err
	}
	var out []ImageRecord
	for _, r := range all {
		if r.Chart != nil && (name == "" || r.Chart.Name == name) {
			out = append(out, r)
		}
	}
	return out, nil
}
