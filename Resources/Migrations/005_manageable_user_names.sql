-- 005: every account can be managed through /bridge/users/{name}.
-- Released: never edit, add a new numbered file instead.
--
-- Names that cannot travel as a URL path segment ("." and "..", or anything
-- outside letters, digits and . _ @ -) were accepted before; such an account
-- could sign in but never be changed or disabled. It is renamed
-- "renamed-user-<id>" (same password, role and state); an administrator
-- can then see it in the users list and manage it like any other.
UPDATE users
   SET username = 'renamed-user-' || id,
       updated_at = CAST(strftime('%s', 'now') AS INTEGER)
 WHERE username IN ('', '.', '..')
    OR length(username) > 64
    OR username GLOB '*[^A-Za-z0-9._@-]*';
