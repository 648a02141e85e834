-- Normalizer parity (issue 16). The SQL normalizers compute the matching keys
-- that chat sync looks customers up by; the C++ ones (src/domain/normalize.hpp)
-- validate and normalize what the API, import and enrichment store. A parity
-- test (tests/pg/normalizer_parity_pgtest.cpp) runs a corpus of several hundred
-- inputs through both; it found (docs/database.md, "Normalizers and matching keys"):
--
-- normalize_phone: a Russian number with its trunk prefix 8 ("8 916 123-45-67")
--   got the key +789161234567 instead of +79161234567, so it never met the same
--   number written "+7 916 …"; "7 916 …" (the code without '+') likewise; the
--   NANP's international prefix 011 ("011 44 20 …" → +111442079460958), Russia's
--   810, Australia's 0011 and Japan's 010 were read as national digits;
--   Hungary's trunk prefix is 06, not 0; full-width and Arabic-Indic digits were
--   dropped. libphonenumber reads all of these.
-- normalize_name: accents were folded only for the Latin-1/Latin Extended-A
--   letters of a fixed table and only when precomposed: "Jose\u0301" (decomposed,
--   as macOS and some keyboards send it) kept its accent, as did Vietnamese
--   letters ("Nguyễn"), full-width letters stayed full-width. Now the name is
--   NFKD-decomposed, combining marks removed, then NFC-composed before the 0002
--   rules (apostrophes are removed first, so "O´Brien" stays "obrien").
-- normalize_email and phone_digits are unchanged (C++ normalize_email now trims
--   the same Unicode spaces).
--
-- Every function keeps its name, arguments and volatility, so every caller
-- (chat sync, key triggers, import, seed) uses the new rules at once.

CREATE OR REPLACE FUNCTION normalize_phone(raw text, default_calling_code text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  s    text;
  intl boolean;
  d    text;
  cc   text;
  most integer;   -- the most digits of a national number (trunk prefix excluded)
BEGIN
  IF raw IS NULL THEN
    RETURN NULL;
  END IF;
  cc := regexp_replace(coalesce(default_calling_code, ''), '[^0-9]', '', 'g');
  -- 0. digits of other scripts (full-width, Arabic-Indic, Persian) and the full-width
  --    plus are read as ASCII, as libphonenumber does
  s := translate(raw, '０１２３４５６７８９٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹＋', '012345678901234567890123456789+');
  -- 1. an extension starts at the first letter, '#', ',' or ';' after a digit: drop it
  s := regexp_replace(s, '^([^0-9]*[0-9][^A-Za-z#,;]*)[A-Za-z#,;].*$', '\1');
  -- 2. a literal "(0)" is the optional trunk prefix of "+44 (0)20 ...": drop it
  s := replace(s, '(0)', '');
  -- 3. international when the first '+' or digit is a '+'
  intl := s ~ '^[^0-9+]*\+';
  d := regexp_replace(s, '[^0-9]', '', 'g');
  -- 4. international call prefixes: the company country's own (011 in the NANP,
  --    810 in Russia, 0011 in Australia, 010 in Japan), else 00
  IF NOT intl THEN
    IF cc = '1' AND d LIKE '011%' OR cc = '7' AND d LIKE '810%' OR cc = '81' AND d LIKE '010%' THEN
      intl := true;
      d := substr(d, 4);
    ELSIF cc = '61' AND d LIKE '0011%' THEN
      intl := true;
      d := substr(d, 5);
    ELSIF d LIKE '00%' THEN
      intl := true;
      d := substr(d, 3);
    END IF;
  END IF;
  IF length(d) < 7 THEN
    RETURN NULL;
  END IF;
  IF NOT intl THEN
    IF cc = '' THEN
      RETURN NULL;
    END IF;
    -- 5. the country's own code typed without '+': digits that start with it and
    --    are more than a national number of that country has ("1 555 123 4567",
    --    "44 20 7946 0958", "7 916 123 45 67"); where the digits could be either,
    --    they are read as a national number (C++ refuses that case: no key there)
    most := CASE cc WHEN '49' THEN 15 WHEN '43' THEN 13 WHEN '39' THEN 11 WHEN '55' THEN 11
                    WHEN '86' THEN 11 ELSE 10 END;
    IF d LIKE cc || '%' AND length(d) - length(cc) >= 7 AND length(d) > most THEN
      d := substr(d, length(cc) + 1);
    END IF;
    -- 6. national trunk prefixes: 1 in the NANP, 8 in Russia/Kazakhstan, 06 in
    --    Hungary, else one 0 (Italy keeps its 0)
    IF cc = '1' AND length(d) = 11 AND d LIKE '1%' THEN
      d := substr(d, 2);
    ELSIF cc = '7' AND length(d) = 11 AND d LIKE '8%' THEN
      d := substr(d, 2);
    ELSIF cc = '36' AND d LIKE '06%' THEN
      d := substr(d, 3);
    ELSIF cc <> '39' AND d LIKE '0%' THEN
      d := substr(d, 2);
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
                      replace(replace(replace(replace(replace(
                        normalize(regexp_replace(
                          lower(normalize(regexp_replace(raw, '[''`\u00b4\u2018\u2019\u02bc]', '', 'g'), NFKD) COLLATE "und-x-icu"),
                          '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]', '', 'g'), NFC),
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
