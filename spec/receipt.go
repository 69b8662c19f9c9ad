package spec

// Receipt format v1 (receipt-v1.md): the signed file in which a site
// states what it holds, the way back from a site to a sender.
const (
	// ReceiptSchemaVersion is the receipt's schemaVersion this build
	// writes and the only one it reads.
	ReceiptSchemaVersion = 1
	// ReceiptMediaType is the receipt's mediaType field.
	ReceiptMediaType = "application/vnd.ferry.receipt.v1+json"
	// ReceiptEntry is the name of a receipt's first tar entry: the
	// receipt itself, canonical JSON.
	ReceiptEntry = "ferry-receipt.json"
	// ReceiptSignatureEntry is the name of its second and last entry:
	// the detached SSHSIG signature of the receipt bytes (namespace
	// ReceiptNamespace), armored as ssh-keygen -Y sign writes it.
	ReceiptSignatureEntry = "ferry-receipt.json.sig"
)

// Limits on a receipt, untrusted input like a bundle.
const (
	// MaxReceiptSize caps the receipt entry. At about 95 bytes a blob it
	// holds some 700,000 blobs: this cap binds before MaxReceiptBlobs.
	MaxReceiptSize = 64 << 20
	// MaxReceiptBlobs caps the blobs one receipt may list.
	MaxReceiptBlobs = 1_000_000
	// MaxReceiptSenders caps the senders one receipt may list.
	MaxReceiptSenders = 10_000
)
