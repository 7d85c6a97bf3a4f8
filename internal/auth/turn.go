package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"time"
)

// TURNCredentials are time-limited credentials for a TURN server that shares
// secret with us (coturn's use-auth-secret, the "TURN REST API"): the
// username is "<expiry>:<user>" and the password its HMAC-SHA1, so nothing
// long-lived is handed to browsers.
func TURNCredentials(secret, user string, ttl time.Duration, now time.Time) (username, credential string) {
	username = strconv.FormatInt(now.Add(ttl).Unix(), 10) + ":" + user
	return username, TURNPassword(secret, username)
}

// TURNPassword is the password that goes with a TURN REST username:
// base64(HMAC-SHA1(secret, username)). A TURN server that shares the
// secret recomputes it to check a credential.
func TURNPassword(secret, username string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
