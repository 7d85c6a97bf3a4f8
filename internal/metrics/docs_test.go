package metrics

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// The dashboard and the operations guide name only metrics that exist, and
// the guide names every one.
func TestDocsNameTheMetrics(t *testing.T) {
	ch := make(chan *prometheus.Desc, 100)
	(&collector{}).Describe(ch)
	close(ch)
	fqName := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	known := map[string]bool{}
	for d := range ch {
		known[fqName.FindStringSubmatch(d.String())[1]] = true
	}
	named := regexp.MustCompile(`classmeet_[a-z_]+`)
	for _, doc := range []string{"../../docs/grafana-dashboard.json", "../../docs/operations.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, n := range named.FindAllString(string(b), -1) {
			n = strings.TrimSuffix(n, "_bucket")
			seen[n] = true
			if !known[n] {
				t.Errorf("%s names %s, which is not served", doc, n)
			}
		}
		for n := range known {
			if strings.HasSuffix(doc, ".md") && !seen[n] {
				t.Errorf("%s does not list %s", doc, n)
			}
		}
	}
}
