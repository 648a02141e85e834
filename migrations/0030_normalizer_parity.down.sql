-- Back to the normalizers of 0002 (bodies exactly as there), and the phone and
-- name keys recomputed with them.
CREATE OR REPLACE FUNCTION normalize_phone(raw text, default_calling_code text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  s    text;
  intl boolean;
  d    text;
  cc   text;
BEGIN
  IF raw IS NULL THEN
    RETURN NULL;
  END IF;
  -- 1. an extension starts at the first letter, '#', ',' or ';' after a digit: drop it
  s := regexp_replace(raw, '^([^0-9]*[0-9][^A-Za-z#,;]*)[A-Za-z#,;].*$', '\1');
  -- 2. a literal "(0)" is the optional trunk prefix of "+44 (0)20 ...": drop it
  s := replace(s, '(0)', '');
  -- 3. international when the first '+' or digit is a '+'
  intl := s ~ '^[^0-9+]*\+';
  d := regexp_replace(s, '[^0-9]', '', 'g');
  -- 4. '00' is the international call prefix
  IF NOT intl AND d LIKE '00%' THEN
    intl := true;
    d := substr(d, 3);
  END IF;
  IF length(d) < 7 THEN
    RETURN NULL;
  END IF;
  IF NOT intl THEN
    cc := regexp_replace(coalesce(default_calling_code, ''), '[^0-9]', '', 'g');
    IF cc = '' THEN
      RETURN NULL;
    END IF;
    IF cc = '1' AND length(d) = 11 AND d LIKE '1%' THEN
      d := substr(d, 2);                 -- NANP: "1 555 123 4567" already carries the code
    ELSIF cc <> '39' AND d LIKE '0%' THEN
      d := substr(d, 2);                 -- one national trunk '0' (Italy keeps it)
    END IF;
    d := cc || d;
  END IF;
  IF length(d) > 15 OR d LIKE '0%' THEN
    RETURN NULL;
  END IF;
  RETURN '+' || d;
END
$$;

CREATE OR REPLACE FUNCTION normalize_name(raw text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT nullif(array_to_string(ARRAY(
           SELECT DISTINCT tok COLLATE "C"
             FROM unnest(string_to_array(btrim(regexp_replace(regexp_replace(
                    translate(
                      replace(replace(replace(replace(replace(lower(raw COLLATE "und-x-icu"),
                        'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe'), 'þ', 'th'), 'ĳ', 'ij'),
                      'àáâãäåçèéêëìíîïðñòóôõöøùúûüýÿāăąćĉċčďđēĕėęěĝğġģĥħĩīĭįıĵķĸĺļľŀłńņňŉŋōŏőŕŗřśŝşšţťŧũūŭůűųŵŷźżžſ',
                      'aaaaaaceeeeiiiidnoooooouuuuyyaaaccccddeeeeegggghhiiiiijkklllllnnnnnooorrrsssstttuuuuuuwyzzzs'),
                    '[''`\u00b4\u2018\u2019\u02bc]', '', 'g'),
                    '[\x01-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f\u0080-\u00bf\u00d7\u00f7\u1680\u2000-\u206f\u3000-\u303f\ufeff]+', ' ', 'g')),
                  ' ')) AS tok
            ORDER BY 1), ' '), '')
$$;

-- Phone and name keys of every active or merged customer (deleted ones have
-- none) recomputed with the functions above, set-based: each function runs at
-- most once per customer, and only the keys whose value changed are deleted and
-- inserted. Names without a non-ASCII character keep their key (0002 and 0030
-- give ASCII text the same key), so only the others are normalized again.
WITH now_keys AS MATERIALIZED (
  SELECT c.company_id, c.id AS customer_id,
         normalize_phone(c.phone, co.default_country_code) AS phone,
         c.name ~ '[^\x01-\x7f]' AS name_changes,
         CASE WHEN c.name ~ '[^\x01-\x7f]' THEN normalize_name(c.name) END AS name
    FROM customers c
    JOIN companies co ON co.id = c.company_id
   WHERE c.status <> 'deleted'
), changed AS MATERIALIZED (
  SELECT n.company_id, n.customer_id, k.key_type, o.key_value AS old_value, k.key_value AS new_value
    FROM now_keys n
   CROSS JOIN LATERAL (VALUES ('phone', n.phone, true), ('name', n.name, n.name_changes))
                   AS k (key_type, key_value, recomputed)
    LEFT JOIN customer_matching_keys o
      ON o.company_id = n.company_id AND o.customer_id = n.customer_id AND o.key_type = k.key_type
   WHERE k.recomputed AND o.key_value IS DISTINCT FROM k.key_value
), removed AS (
  DELETE FROM customer_matching_keys m
   USING changed ch
   WHERE m.company_id = ch.company_id AND m.key_type = ch.key_type AND m.key_value = ch.old_value
     AND m.customer_id = ch.customer_id
  RETURNING 1
)
INSERT INTO customer_matching_keys (company_id, key_type, key_value, customer_id)
SELECT company_id, key_type, new_value, customer_id FROM changed WHERE new_value IS NOT NULL
ON CONFLICT DO NOTHING;
