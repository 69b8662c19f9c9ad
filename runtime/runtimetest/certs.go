package runtimetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeCerts makes a CA (caDir/ca.crt) and a server certificate for
// 127.0.0.1 and localhost signed by it (in serverDir), and returns the
// paths of the server's certificate and key.
func writeCerts(t testing.TB, caDir, serverDir string) (certFile, keyFile string) {
	t.Helper()
	caKey, caCert := newCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "ferry test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, nil, nil)
	key, cert := newCert(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, caCert, caKey)
	writeFile(t, filepath.Join(caDir, "ca.crt"), pemString("CERTIFICATE", caCert.Raw))
	certFile, keyFile = filepath.Join(serverDir, "server.crt"), filepath.Join(serverDir, "server.key")
	writeFile(t, certFile, pemString("CERTIFICATE", cert.Raw))
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, keyFile, pemString("EC PRIVATE KEY", der))
	return certFile, keyFile
}

// DockerCertPath writes into dir the files DOCKER_CERT_PATH holds
// (ca.pem, cert.pem, key.pem), from a CA of its own, and returns dir.
func DockerCertPath(t testing.TB, dir string) string {
	t.Helper()
	cert, key := writeCerts(t, dir, dir)
	for from, to := range map[string]string{filepath.Join(dir, "ca.crt"): "ca.pem", cert: "cert.pem", key: "key.pem"} {
		if err := os.Rename(from, filepath.Join(dir, to)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// newCert signs tmpl with parent's key (itself when parent is nil).
func newCert(t testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func pemString(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}
