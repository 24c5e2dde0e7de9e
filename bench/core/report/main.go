// Command report reads the output of the broker-core benchmarks (bench/core
// and bench/peers/nats, as bench/run-core.sh runs them) and prints one
// Markdown table per workload with the ratios: Courier ÷ the log's own
// group commit, Courier ÷ JetStream with SyncAlways, Courier ÷ JetStream
// with its default sync. When a benchmark ran more than once (-count),
// each metric is the median of its runs.
//
//	go run ./bench/core/report core.txt nats.txt
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/courier-mq/courier/bench/core/harness"
)

// results maps a benchmark name (no "Benchmark" prefix, no -GOMAXPROCS
// suffix) to its metrics, each with every value seen.
type results map[string]map[string][]float64

var line = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func parse(paths []string) (results, error) {
	res := results{}
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			m := line.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			metrics := res[m[1]]
			if metrics == nil {
				metrics = map[string][]float64{}
				res[m[1]] = metrics
			}
			fields := strings.Fields(m[2])
			for i := 0; i+1 < len(fields); i += 2 {
				if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
					metrics[fields[i+1]] = append(metrics[fields[i+1]], v)
				}
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// get returns the median of a metric, or NaN-like false when missing.
func (r results) get(name, unit string) (float64, bool) {
	vs := r[name][unit]
	if len(vs) == 0 {
		return 0, false
	}
	vs = slices.Clone(vs)
	slices.Sort(vs)
	return vs[len(vs)/2], true
}

func num(r results, name, unit string) string {
	v, ok := r.get(name, unit)
	if !ok {
		return "–"
	}
	switch {
	case v >= 100:
		return commas(int64(v + 0.5))
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
}

func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func ratio(r results, a, b string) (float64, string) {
	x, ok1 := r.get(a, "msgs/s")
	y, ok2 := r.get(b, "msgs/s")
	if !ok1 || !ok2 || y == 0 {
		return 0, "–"
	}
	return x / y, fmt.Sprintf("%.2f", x/y)
}

func lat(r results, name, prefix string) string {
	return num(r, name, prefix+"p50-µs") + " / " + num(r, name, prefix+"p99-µs") + " / " + num(r, name, prefix+"p999-µs")
}

type shape struct{ size, pubs int }

func (s shape) String() string {
	return fmt.Sprintf("msg=%s/pubs=%d", harness.SizeName(s.size), s.pubs)
}

func shapes() []shape {
	var out []shape
	for _, size := range harness.Sizes {
		for _, pubs := range harness.Publishers {
			out = append(out, shape{size, pubs})
		}
	}
	return out
}

// goal is one line of the goals table.
type goal struct {
	text     string
	measured []string
	met      bool
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: report bench-output...")
		os.Exit(2)
	}
	r, err := parse(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var goals []goal
	pubGoal := goal{text: "durable publish, 16 publishers: ≥ 0.70 of the log's rate", met: true}
	e2eGoal := goal{text: "publish → consume → ack: ≥ 0.50 of the log's rate", met: true}
	jsGoal := goal{text: "≥ JetStream default-sync throughput (Courier fsyncs before every ack)", met: true}
	p99Goal := goal{text: "end-to-end p99 < 2 ms at half the maximum rate", met: true}

	for _, kind := range []string{"Publish", "EndToEnd"} {
		if kind == "Publish" {
			fmt.Println("### Publish: N publishers, one message at a time, each waiting for its ack")
		} else {
			fmt.Println("### End to end: the same publishers, a shared group of 4 members acking every message")
		}
		fmt.Println()
		fmt.Println("msgs/s; latency p50 / p99 / p99.9 in µs (end to end: from the publish call to receipt).")
		fmt.Println()
		fmt.Println("| Msg | Pubs | Courier msgs/s | Courier latency | log msgs/s | **Courier ÷ log** | JS always msgs/s | JS always latency | **÷ JS always** | JS default msgs/s | JS default latency | **÷ JS default** |")
		fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
		for _, s := range shapes() {
			c := "Core" + kind + "/" + s.String()
			ja := "JetStream" + kind + "/sync=always/" + s.String()
			jd := "JetStream" + kind + "/sync=default/" + s.String()
			lr, ok := r.get(c, "ratio-to-log")
			lrs := "–"
			if ok {
				lrs = fmt.Sprintf("%.2f", lr)
			}
			_, ra := ratio(r, c, ja)
			rd, rds := ratio(r, c, jd)
			fmt.Printf("| %s | %d | %s | %s | %s | **%s** | %s | %s | **%s** | %s | %s | **%s** |\n",
				harness.SizeName(s.size), s.pubs, num(r, c, "msgs/s"), lat(r, c, ""), num(r, c, "log-msgs/s"), lrs,
				num(r, ja, "msgs/s"), lat(r, ja, ""), ra, num(r, jd, "msgs/s"), lat(r, jd, ""), rds)
			if kind == "Publish" && s.pubs == 16 {
				pubGoal.measured = append(pubGoal.measured, fmt.Sprintf("%s: %s", harness.SizeName(s.size), lrs))
				pubGoal.met = pubGoal.met && ok && lr >= 0.70
			}
			if kind == "EndToEnd" {
				e2eGoal.measured = append(e2eGoal.measured, fmt.Sprintf("%s×%d: %s", harness.SizeName(s.size), s.pubs, lrs))
				e2eGoal.met = e2eGoal.met && ok && lr >= 0.50
			}
			jsGoal.measured = append(jsGoal.measured, fmt.Sprintf("%s %s×%d: %s", strings.ToLower(kind), harness.SizeName(s.size), s.pubs, rds))
			jsGoal.met = jsGoal.met && rds != "–" && rd >= 1
		}
		fmt.Println()
		if kind == "EndToEnd" {
			fmt.Println("Publish latency (p50 / p99 / p99.9 µs, per publish call) in the same end-to-end runs:")
			fmt.Println()
			fmt.Println("| Msg | Pubs | Courier | JS always | JS default |")
			fmt.Println("|---|---|---|---|---|")
			for _, s := range shapes() {
				fmt.Printf("| %s | %d | %s | %s | %s |\n", harness.SizeName(s.size), s.pubs,
					lat(r, "CoreEndToEnd/"+s.String(), "pub-"),
					lat(r, "JetStreamEndToEnd/sync=always/"+s.String(), "pub-"),
					lat(r, "JetStreamEndToEnd/sync=default/"+s.String(), "pub-"))
			}
			fmt.Println()
		}
	}

	fmt.Printf("### End to end at half the maximum rate (%d publishers, paced)\n\n", harness.PacedPublishers)
	fmt.Println("Each broker at half of its own unpaced end-to-end rate above. Latency p50 / p99 / p99.9 µs:")
	fmt.Println("end to end, and per publish call; lag p99 is how late publishers started against the schedule.")
	fmt.Println("The log row appends at Courier's paced rate from as many appenders (latency per Append).")
	fmt.Println()
	fmt.Println("| Msg | Broker | target msgs/s | msgs/s | end-to-end latency | publish latency | lag p99 µs |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, size := range harness.Sizes {
		s := shape{size, harness.PacedPublishers}
		c := "CorePaced/" + s.String()
		rows := []struct{ label, name, e2e, pub string }{
			{"Courier", c, lat(r, c, ""), lat(r, c, "pub-")},
			{"log (same rate)", c, "–", lat(r, c, "log-")},
			{"JS always", "JetStreamPaced/sync=always/" + s.String(), "", ""},
			{"JS default", "JetStreamPaced/sync=default/" + s.String(), "", ""},
		}
		for i, row := range rows {
			e2e, pub := row.e2e, row.pub
			if e2e == "" {
				e2e, pub = lat(r, row.name, ""), lat(r, row.name, "pub-")
			}
			target, got, lag := num(r, row.name, "target-msgs/s"), num(r, row.name, "msgs/s"), num(r, row.name, "lag-p99-µs")
			if i == 1 {
				got, lag = num(r, row.name, "log-msgs/s"), "–"
			}
			fmt.Printf("| %s | %s | %s | %s | %s | %s | %s |\n", harness.SizeName(size), row.label, target, got, e2e, pub, lag)
		}
		p99, ok := r.get(c, "p99-µs")
		p99Goal.measured = append(p99Goal.measured, fmt.Sprintf("%s: %s µs", harness.SizeName(size), num(r, c, "p99-µs")))
		p99Goal.met = p99Goal.met && ok && p99 < 2000
	}
	fmt.Println()

	fmt.Println("### The disk in the same slices: fsyncs of the log baseline")
	fmt.Println()
	fmt.Println("Records per fsync of the log baseline, and its fsync latency p50 / p99 / p99.9 in µs.")
	fmt.Println()
	fmt.Println("| Benchmark | Msg | Pubs | log records/fsync | fsync latency |")
	fmt.Println("|---|---|---|---|---|")
	for _, kind := range []string{"Publish", "EndToEnd", "Paced"} {
		for _, s := range shapes() {
			if kind == "Paced" && s.pubs != harness.PacedPublishers {
				continue
			}
			n := "Core" + kind + "/" + s.String()
			fmt.Printf("| %s | %s | %d | %s | %s |\n", kind, harness.SizeName(s.size), s.pubs,
				num(r, n, "log-rec/fsync"), lat(r, n, "fsync-"))
		}
	}
	fmt.Println()

	fmt.Println("### JetStream PublishAsync, one connection pipelining (no Courier counterpart)")
	fmt.Println()
	fmt.Println("| Msg | JS always msgs/s | JS default msgs/s |")
	fmt.Println("|---|---|---|")
	for _, size := range harness.Sizes {
		n := harness.SizeName(size)
		fmt.Printf("| %s | %s | %s |\n", n, num(r, "JetStreamPublishAsync/sync=always/msg="+n+"/pubs=1", "msgs/s"),
			num(r, "JetStreamPublishAsync/sync=default/msg="+n+"/pubs=1", "msgs/s"))
	}
	fmt.Println()

	goals = append(goals, pubGoal, e2eGoal, jsGoal, p99Goal)
	fmt.Println("### Goals")
	fmt.Println()
	fmt.Println("| Goal | Measured | Met? |")
	fmt.Println("|---|---|---|")
	for _, g := range goals {
		met := "**no**"
		if g.met {
			met = "**yes**"
		}
		fmt.Printf("| %s | %s | %s |\n", g.text, strings.Join(g.measured, "; "), met)
	}
}
