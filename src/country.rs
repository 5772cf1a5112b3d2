//! Issuer countries in one form, ISO 3166-1 alpha-2: Pine Labs sends that form ("IN"), Payerly
//! alpha-3 ("USA"), and one token model must not carry both.

/// Every ISO 3166-1 country as its alpha-3 code followed by its alpha-2, sorted by alpha-3 (the
/// iso-codes database, as packaged by pycountry 26.2.16).
const ALPHA3_ALPHA2: &str = "\
    ABWAWAFGAFAGOAOAIAAIALAAXALBALANDADAREAEARGARARMAMASMASATAAQATFTFATGAGAUSAUAUTATAZEAZBDIBIBELBEBENBJBESBQBFABFBGDBDBGRBGBHRBHBHSBSBIHBABLMBLBLRBYBLZBZ\
    BMUBMBOLBOBRABRBRBBBBRNBNBTNBTBVTBVBWABWCAFCFCANCACCKCCCHECHCHLCLCHNCNCIVCICMRCMCODCDCOGCGCOKCKCOLCOCOMKMCPVCVCRICRCUBCUCUWCWCXRCXCYMKYCYPCYCZECZDEUDE\
    DJIDJDMADMDNKDKDOMDODZADZECUECEGYEGERIERESHEHESPESESTEEETHETFINFIFJIFJFLKFKFRAFRFROFOFSMFMGABGAGBRGBGEOGEGGYGGGHAGHGIBGIGINGNGLPGPGMBGMGNBGWGNQGQGRCGR\
    GRDGDGRLGLGTMGTGUFGFGUMGUGUYGYHKGHKHMDHMHNDHNHRVHRHTIHTHUNHUIDNIDIMNIMINDINIOTIOIRLIEIRNIRIRQIQISLISISRILITAITJAMJMJEYJEJORJOJPNJPKAZKZKENKEKGZKGKHMKH\
    KIRKIKNAKNKORKRKWTKWLAOLALBNLBLBRLRLBYLYLCALCLIELILKALKLSOLSLTULTLUXLULVALVMACMOMAFMFMARMAMCOMCMDAMDMDGMGMDVMVMEXMXMHLMHMKDMKMLIMLMLTMTMMRMMMNEMEMNGMN\
    MNPMPMOZMZMRTMRMSRMSMTQMQMUSMUMWIMWMYSMYMYTYTNAMNANCLNCNERNENFKNFNGANGNICNINIUNUNLDNLNORNONPLNPNRUNRNZLNZOMNOMPAKPKPANPAPCNPNPERPEPHLPHPLWPWPNGPGPOLPL\
    PRIPRPRKKPPRTPTPRYPYPSEPSPYFPFQATQAREUREROURORUSRURWARWSAUSASDNSDSENSNSGPSGSGSGSSHNSHSJMSJSLBSBSLESLSLVSVSMRSMSOMSOSPMPMSRBRSSSDSSSTPSTSURSRSVKSKSVNSI\
    SWESESWZSZSXMSXSYCSCSYRSYTCATCTCDTDTGOTGTHATHTJKTJTKLTKTKMTMTLSTLTONTOTTOTTTUNTNTURTRTUVTVTWNTWTZATZUGAUGUKRUAUMIUMURYUYUSAUSUZBUZVATVAVCTVCVENVEVGBVG\
    VIRVIVNMVNVUTVUWLFWFWSMWSYEMYEZAFZAZMBZMZWEZW";

/// The country as alpha-2: an alpha-2 code in capitals, an alpha-3 code converted. Anything else
/// (a name, a numeric code, a code not in the table) is kept as the provider sent it.
pub fn alpha2(country: String) -> String {
    let code = country.trim();
    if !code.bytes().all(|b| b.is_ascii_alphabetic()) {
        return country;
    }
    match code.len() {
        2 => code.to_ascii_uppercase(),
        3 => {
            let upper = code.to_ascii_uppercase();
            // 249 records, read only for a token that has a country: a scan is enough.
            let found = ALPHA3_ALPHA2.as_bytes().chunks_exact(5).find(|r| r.get(..3) == Some(upper.as_bytes()));
            match found.and_then(|r| std::str::from_utf8(r.get(3..)?).ok()) {
                Some(a2) => a2.to_string(),
                None => country,
            }
        }
        _ => country,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_records_of_five_capitals() {
        assert_eq!(ALPHA3_ALPHA2.len() % 5, 0);
        let records: Vec<&str> = (0..ALPHA3_ALPHA2.len() / 5).map(|i| &ALPHA3_ALPHA2[i * 5..i * 5 + 5]).collect();
        assert_eq!(records.len(), 249);
        assert!(records.iter().all(|r| r.bytes().all(|b| b.is_ascii_uppercase())));
        assert!(records.windows(2).all(|w| w[0][..3] < w[1][..3]), "sorted by alpha-3, no repeats");
    }

    #[test]
    fn alpha3_becomes_alpha2_and_anything_else_is_kept() {
        for (sent, want) in [("USA", "US"), ("usa", "US"), (" IND ", "IN"), ("IN", "IN"), ("in", "IN"), ("ABW", "AW"), ("ZWE", "ZW"), ("GBR", "GB"),
            ("XYZ", "XYZ"), ("840", "840"), ("United States", "United States"), ("", ""), ("U", "U"), ("ÜSA", "ÜSA")] {
            assert_eq!(alpha2(sent.to_string()), want, "{sent:?}");
        }
    }
}
