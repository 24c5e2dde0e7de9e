package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// Configuration layers for `courier serve`. Every setting is a flag; the
// same setting comes, in order of precedence, from the command line, from
// the environment (COURIER_ + the flag's name in upper case with _ for -:
// --kafka-addr is COURIER_KAFKA_ADDR), from the YAML file named by
// --config (its keys are the flag names), and last from the flag's
// default. A key the file does not know is an error.

// fileConfig is the YAML file's shape; decoding with KnownFields rejects
// any other key.
type fileConfig struct {
	Data                *string `yaml:"data"`
	APIAddr             *string `yaml:"api-addr"`
	KafkaAddr           *string `yaml:"kafka-addr"`
	KafkaAdvertisedAddr *string `yaml:"kafka-advertised-addr"`
	KafkaAutoCreate     *bool   `yaml:"kafka-auto-create"`
	KafkaUsersFile      *string `yaml:"kafka-users-file"`
	UsersFile           *string `yaml:"users-file"`
	AMQPAddr            *string `yaml:"amqp-addr"`
	MQTTAddr            *string `yaml:"mqtt-addr"`
	STOMPAddr           *string `yaml:"stomp-addr"`
	MQTTWSAddr          *string `yaml:"mqtt-ws-addr"`
	STOMPWSAddr         *string `yaml:"stomp-ws-addr"`
	LogFormat           *string `yaml:"log-format"`
	LogLevel            *string `yaml:"log-level"`
	AckCommitInterval   *string `yaml:"ack-commit-interval"`
}

// values maps each flag name the file sets to its value as flag text.
func (f *fileConfig) values() map[string]string {
	v := map[string]string{}
	put := func(name string, s *string) {
		if s != nil {
			v[name] = *s
		}
	}
	put("data", f.Data)
	put("api-addr", f.APIAddr)
	put("kafka-addr", f.KafkaAddr)
	put("kafka-advertised-addr", f.KafkaAdvertisedAddr)
	if f.KafkaAutoCreate != nil {
		v["kafka-auto-create"] = fmt.Sprint(*f.KafkaAutoCreate)
	}
	put("kafka-users-file", f.KafkaUsersFile)
	put("users-file", f.UsersFile)
	put("amqp-addr", f.AMQPAddr)
	put("mqtt-addr", f.MQTTAddr)
	put("stomp-addr", f.STOMPAddr)
	put("mqtt-ws-addr", f.MQTTWSAddr)
	put("stomp-ws-addr", f.STOMPWSAddr)
	put("log-format", f.LogFormat)
	put("log-level", f.LogLevel)
	put("ack-commit-interval", f.AckCommitInterval)
	return v
}

// readConfigFile reads a YAML config file; "" means none.
func readConfigFile(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var f fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return f.values(), nil
}

// envName is the environment variable for a flag.
func envName(flag string) string {
	return "COURIER_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyLayers sets each flag of fs named in names that the command line
// did not set: from the environment if its variable is set (and not
// empty), else from the file.
func applyLayers(fs *pflag.FlagSet, names []string, file map[string]string, getenv func(string) string) error {
	for _, name := range names {
		f := fs.Lookup(name)
		if f == nil || f.Changed {
			continue
		}
		val, from := getenv(envName(name)), envName(name)
		if val == "" {
			v, ok := file[name]
			if !ok {
				continue
			}
			val, from = v, "config key "+name
		}
		if err := fs.Set(name, val); err != nil {
			return fmt.Errorf("%s: %w", from, err)
		}
	}
	return nil
}
