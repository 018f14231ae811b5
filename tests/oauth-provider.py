#!/usr/bin/python3
# oauth-provider.py: an OAuth2 provider on loopback, for the tests
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   oauth-provider.py --client-id ID [--email ADDRESS] [--port-file FILE]
#
# Debian's Python standard library only.  It listens on 127.0.0.1 at a free
# port, plain http: PopCheck allows http for 127.0.0.1 endpoints only
# (popcheck_oauth_endpoint_is_allowed), because traffic to that address never
# leaves the machine; a certificate of its own would test nothing more here.
# It writes "PORT\n" to standard output (and to --port-file) once it
# listens, and stops when standard input closes, so it never outlives the
# test that started it.
#
#   GET  /authorize   the browser's page: checks the client id, that the
#                     redirect URI is a loopback one, the PKCE challenge
#                     (S256) and the state, then redirects to the redirect
#                     URI with a code (or an error, as the mode says)
#   POST /token       authorization_code (with the verifier, once per code)
#                     and refresh_token grants; or a fault, as the mode says
#   POST /introspect  RFC 7662 for Dovecot's oauth2 passdb: {"active": ...,
#                     "email": ...}
#   POST /control     the test's switchboard (form fields):
#                       authorize=ok|deny|bad-state|other-path
#                       token=ok|invalid_grant|http500|slow|garbage|crlf|long
#                       expire=1  every access token expires now
#                       revoke=1  every refresh token is revoked
#                       dead_next=1  the next access token is dead on arrival
#                       expires_in=SECONDS for the tokens issued next
#                       email=ADDRESS      what /introspect names the user
#                       mint=1  answers with a new access token, as if
#                               signed in elsewhere (Online Accounts)
#   GET  /stats       JSON: how many token requests of each grant came,
#                     and every token issued

import argparse
import base64
import hashlib
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 * 1024


class Provider:
    def __init__(self, client_id, email):
        self.lock = threading.Lock()
        self.client_id = client_id
        self.email = email
        self.authorize_mode = 'ok'
        self.token_mode = 'ok'
        self.expires_in = 3600
        self.dead_next = False
        self.codes = {}        # code -> dict(challenge, redirect_uri, used)
        self.access = {}       # token -> expiry (time.time())
        self.refresh = {}      # token -> revoked?
        self.stats = {'authorization_code': 0, 'refresh_token': 0,
                      'introspect': 0, 'issued': []}

    def issue(self):
        access = 'at-' + secrets.token_urlsafe(24)
        refresh = 'rt-' + secrets.token_urlsafe(24)
        # dead_next: the next access token is issued already expired, as
        # if revoked between the refresh and the login.
        if self.dead_next:
            self.dead_next = False
            self.access[access] = 0
        else:
            self.access[access] = time.time() + self.expires_in
        self.refresh[refresh] = False
        # For the tests to look for them where no token may be.
        self.stats['issued'] += [access, refresh]
        return {'access_token': access, 'token_type': 'Bearer',
                'expires_in': self.expires_in, 'refresh_token': refresh,
                'scope': 'pop'}


def s256(verifier):
    digest = hashlib.sha256(verifier.encode('ascii')).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii')


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'popcheck-test-oauth/1'

    def log_message(self, format, *args):
        sys.stderr.write('oauth-provider: ' + (format % args) + '\n')

    @property
    def provider(self):
        return self.server.provider

    def send(self, status, body, content_type='application/json',
             headers=()):
        data = body if isinstance(body, bytes) else body.encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Cache-Control', 'no-store')
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status, obj):
        self.send(status, json.dumps(obj))

    def form(self):
        length = int(self.headers.get('Content-Length') or 0)
        if length > MAX_BODY:
            raise ValueError('body too long')
        body = self.rfile.read(length).decode('ascii')
        return {k: v[0] for k, v in
                urllib.parse.parse_qs(body, keep_blank_values=True).items()}

    # /authorize

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[0] for k, v in
                 urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        if url.path == '/authorize':
            self.authorize(query)
        elif url.path == '/stats':
            with self.provider.lock:
                self.send_json(200, self.provider.stats)
        else:
            self.send(404, 'not found', 'text/plain')

    def authorize(self, q):
        p = self.provider
        problems = []
        if q.get('response_type') != 'code':
            problems.append('response_type is not code')
        if q.get('client_id') != p.client_id:
            problems.append('unknown client_id')
        redirect = urllib.parse.urlsplit(q.get('redirect_uri', ''))
        if (redirect.scheme != 'http' or redirect.hostname != '127.0.0.1'
                or not redirect.port):
            problems.append('redirect_uri is not a loopback one')
        if q.get('code_challenge_method') != 'S256':
            problems.append('code_challenge_method is not S256')
        if len(q.get('code_challenge', '')) != 43:
            problems.append('no code_challenge')
        if len(q.get('state', '')) < 16:
            problems.append('no state')
        if not q.get('scope'):
            problems.append('no scope')
        if problems:
            self.send(400, '; '.join(problems), 'text/plain')
            return

        with p.lock:
            mode = p.authorize_mode
            code = 'code-' + secrets.token_urlsafe(16)
            p.codes[code] = {'challenge': q['code_challenge'],
                             'redirect_uri': q['redirect_uri'],
                             'used': False}
        state = q['state']
        path = redirect.path or '/'
        if mode == 'deny':
            params = {'error': 'access_denied',
                      'error_description': 'The user said no', 'state': state}
        elif mode == 'bad-state':
            params = {'code': code, 'state': 'not-' + state}
        else:
            params = {'code': code, 'state': state}
        if mode == 'other-path':
            path = '/elsewhere'
        location = urllib.parse.urlunsplit(
            ('http', redirect.netloc, path, urllib.parse.urlencode(params), ''))
        self.send(302, 'redirecting', 'text/plain', [('Location', location)])

    # /token, /introspect, /control

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        try:
            form = self.form()
        except (ValueError, UnicodeDecodeError):
            self.send(400, 'bad body', 'text/plain')
            return
        if path == '/token':
            self.token(form)
        elif path == '/introspect':
            self.introspect(form)
        elif path == '/control':
            self.control(form)
        else:
            self.send(404, 'not found', 'text/plain')

    def token(self, f):
        p = self.provider
        grant = f.get('grant_type')
        with p.lock:
            if grant in p.stats:
                p.stats[grant] += 1
            mode = p.token_mode
        if mode == 'slow':
            # Never answers: the client's own timeout must end the wait.
            # The test stops the provider, which ends this thread with it.
            time.sleep(3600)
            return
        if mode == 'http500':
            self.send(500, '<html>Internal Server Error</html>', 'text/html')
            return
        if mode == 'garbage':
            self.send(200, '{"access_token": "at-1", oops')
            return
        if mode == 'long':
            self.send(200, '{"access_token": "' + 'a' * (1024 * 1024) + '"}')
            return
        if mode == 'invalid_grant':
            self.send_json(400, {'error': 'invalid_grant',
                                 'error_description': 'Token revoked'})
            return
        if f.get('client_id') != p.client_id:
            self.send_json(401, {'error': 'invalid_client'})
            return

        with p.lock:
            if grant == 'authorization_code':
                entry = p.codes.get(f.get('code', ''))
                if (entry is None or entry['used']
                        or entry['redirect_uri'] != f.get('redirect_uri')
                        or s256(f.get('code_verifier', '')) != entry['challenge']):
                    if entry is not None:
                        entry['used'] = True
                    self.send_json(400, {'error': 'invalid_grant',
                                         'error_description': 'bad code'})
                    return
                entry['used'] = True
                reply = p.issue()
            elif grant == 'refresh_token':
                token = f.get('refresh_token', '')
                if p.refresh.get(token, True):
                    self.send_json(400, {'error': 'invalid_grant',
                                         'error_description': 'revoked'})
                    return
                reply = p.issue()
                # Refresh tokens are not rotated, as Google does.
                del p.refresh[reply.pop('refresh_token')]
            else:
                self.send_json(400, {'error': 'unsupported_grant_type'})
                return
            if mode == 'crlf':
                reply['access_token'] += '\r\nDELE 1'
        self.send_json(200, reply)

    def introspect(self, f):
        p = self.provider
        token = f.get('token', '')
        with p.lock:
            p.stats['introspect'] += 1
            expiry = p.access.get(token)
            active = expiry is not None and expiry > time.time()
        if active:
            self.send_json(200, {'active': True, 'email': p.email,
                                 'token_type': 'Bearer'})
        else:
            # Dovecot's oauth2 passdb fails the login on a 401.
            self.send_json(401, {'active': False})

    def control(self, f):
        p = self.provider
        reply = {'ok': True}
        with p.lock:
            if f.get('mint'):
                # A token as if signed in elsewhere (GNOME Online
                # Accounts hands such tokens to PopCheck).
                reply['access_token'] = p.issue()['access_token']
            if 'authorize' in f:
                p.authorize_mode = f['authorize']
            if 'token' in f:
                p.token_mode = f['token']
            if 'email' in f:
                p.email = f['email']
            if 'expires_in' in f:
                p.expires_in = int(f['expires_in'])
            if f.get('expire'):
                for token in p.access:
                    p.access[token] = 0
            if f.get('dead_next'):
                p.dead_next = True
            if f.get('revoke'):
                for token in p.refresh:
                    p.refresh[token] = True
        self.send_json(200, reply)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--client-id', required=True)
    parser.add_argument('--email', default='user@example.org')
    parser.add_argument('--port-file')
    args = parser.parse_args()

    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    server.daemon_threads = True
    server.provider = Provider(args.client_id, args.email)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()

    if args.port_file:
        with open(args.port_file + '.tmp', 'w') as f:
            f.write('%d\n' % port)
        os.rename(args.port_file + '.tmp', args.port_file)
    sys.stdout.write('%d\n' % port)
    sys.stdout.flush()

    # Until the test closes our standard input (or dies).
    sys.stdin.read()
    server.shutdown()


if __name__ == '__main__':
    main()
