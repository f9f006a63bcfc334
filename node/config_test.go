package node

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

func TestDefaultConfigOfEveryProfileIsValid(t *testing.T) {
	for _, p := range Profiles {
		t.Run(p, func(t *testing.T) {
			c, err := DefaultConfig(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestWrittenConfigReadsBackTheSame(t *testing.T) {
	for _, p := range Profiles {
		t.Run(p, func(t *testing.T) {
			want, _ := DefaultConfig(p)
			var buf bytes.Buffer
			if err := WriteConfig(&buf, want); err != nil {
				t.Fatal(err)
			}
			got, err := ParseConfig(&buf)
			if err != nil {
				t.Fatalf("parse written config: %v\n%s", err, buf.String())
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip changed the config:\ngot  %+v\nwant %+v", got, want)
			}
		})
	}
}

// Every key of the written file carries a comment line above it.
func TestWrittenConfigExplainsEveryKey(t *testing.T) {
	c, _ := DefaultConfig(ProfileDesktop)
	var buf bytes.Buffer
	if err := WriteConfig(&buf, c); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	for i, l := range lines {
		if strings.Contains(l, " = ") && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, " ") {
			if i == 0 || !strings.HasPrefix(lines[i-1], "#") && !strings.Contains(lines[i-1], " = ") {
				t.Errorf("key without an explanation: %q", l)
			}
		}
	}
}

func TestParseConfigNamesWhatIsWrong(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"an unknown key", "[swarm]\nlisten_addrs = []\n", "listen_addrs"},
		{"a value of the wrong type", "[swarm]\nconn_low = 'many'\n", "conn_low"},
		{"a bad multiaddr", "[swarm]\nlisten = ['/ip4/999.0.0.1/tcp/1']\n", "swarm.listen[0]"},
		{"a bootstrap address without peer ID", "[swarm]\nbootstrap = ['/ip4/127.0.0.1/tcp/1']\n", "swarm.bootstrap"},
		{"an unknown DHT mode", "[dht]\nmode = 'sometimes'\n", "dht.mode"},
		{"a bad HTTP address", "[http]\nlisten = 'localhost'\n", "http.listen"},
		{"a bad duration", "[provide]\ninterval = 'daily'\n", "duration"},
		{"an unknown profile", "profile = 'laptop'\n", "profile"},
		{"broken TOML", "[swarm\n", "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(tt.file))
			if err == nil {
				t.Fatal("accepted")
			}
			if api.KindOf(err) != api.KindInvalid {
				t.Errorf("kind %s, want invalid", api.KindOf(err))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
		})
	}
}

func TestParseConfigKeepsProfileDefaultsForMissingKeys(t *testing.T) {
	c, err := ParseConfig(strings.NewReader("profile = 'test'\n[http]\nlisten = '127.0.0.1:9999'\n"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := DefaultConfig(ProfileTest)
	want.HTTP.Listen = "127.0.0.1:9999"
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v, want %+v", c, want)
	}
}

func TestParseConfigRefusesOversizedFile(t *testing.T) {
	big := strings.Repeat("# padding\n", MaxConfigSize/10+1)
	if _, err := ParseConfig(strings.NewReader(big)); err == nil || api.KindOf(err) != api.KindInvalid {
		t.Fatalf("err = %v, want an invalid-config error", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	// Small seeds: the fuzzer minimises slowly from whole written configs.
	f.Add([]byte("profile = 'test'\n[http]\nlisten = '127.0.0.1:0'\n"))
	f.Add([]byte("[swarm]\nconn_low = 'x'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(bytes.NewReader(data))
		if err != nil {
			if api.KindOf(err) != api.KindInvalid && !strings.Contains(err.Error(), "read config") {
				t.Fatalf("error of kind %s: %v", api.KindOf(err), err)
			}
			return
		}
		// Whatever parses is valid and survives a round trip.
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed config does not validate: %v", err)
		}
		var buf bytes.Buffer
		if err := WriteConfig(&buf, c); err != nil {
			t.Fatal(err)
		}
		again, err := ParseConfig(&buf)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip changed the config")
		}
	})
}

func TestGatewayConfigIsCheckedKeyByKey(t *testing.T) {
	for _, tc := range []struct{ name, toml, want string }{
		{"a public URL with a path is refused", "public_url = 'https://x.org/lyceum'", "gateway.public_url"},
		{"a public URL of another scheme is refused", "public_url = 'ftp://x.org'", "gateway.public_url"},
		{"a certificate without its key is refused", "tls_cert = 'c.pem'", "gateway.tls_cert"},
		{"a proxy that is not an address is refused", "trusted_proxies = ['proxy.local']", "gateway.trusted_proxies[0]"},
		{"a private network that is not a CIDR is refused", "allow_private_networks = ['10.0.0.0/33']", "gateway.allow_private_networks[0]"},
		{"a zero inbox rate is refused", "inbox_rate = 0", "gateway.inbox_rate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader("[gateway]\n" + tc.toml + "\n"))
			if err == nil || api.KindOf(err) != api.KindInvalid || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want an invalid-config error naming %s", err, tc.want)
			}
		})
	}
	c, err := ParseConfig(strings.NewReader("[gateway]\npublic_url = 'https://lyceum.example.org/'\ntrusted_proxies = ['127.0.0.1', '10.0.0.0/8']\n"))
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := c.Gateway.TrustedProxyPrefixes()
	if len(ps) != 2 || ps[0].String() != "127.0.0.1/32" || ps[1].String() != "10.0.0.0/8" {
		t.Fatalf("trusted proxies = %v", ps)
	}
}
