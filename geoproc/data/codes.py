"""Kommune code systems and reforms (kommunereformer) 2017–2024.

Code lists (classification facts, SSB KLASS classification 131 "Standard for kommuneinndeling"):

- ``"2017"``: the 426 codes valid 2017-01-01 .. 2017-12-31.
- ``"2018"``: the 422 codes valid 2018-01-01 .. 2019-12-31 (2019 used the same list; Rindal moved
  to Trøndelag as 5061 in 2019 only in some SSB tables – we keep 1567 as the 2018/2019 code).
- ``"2020"``: the 356 codes valid 2020-01-01 .. 2023-12-31.
- ``"2024"``: the 357 codes valid from 2024-01-01.

The lists for 2017, 2018 and 2020 were cross-checked against the code lists of SSB table 11618 as
published for those years (file ``employment_11618_2017_2022.csv`` described in
../shared/data/ssb/README.md, itself from statisticsnorway/pendling). The 2024 list is derived
from the 2020 list and the 2024 reform table below.

Reform tables (:data:`CHANGES`) and what we could verify:

- 2018 (2017 -> 2018 codes): verified that the mapping covers all 426 codes of 2017 and maps onto
  exactly the 422 codes of 2018; per-kommune 15–74 population 2017 mapped vs 2018 agrees within 7 %.
- 2020 (2018 -> 2020 codes): covers all 422 codes, maps onto exactly the 356 codes; every pair
  agrees with lauriejh/regtools' 2016 -> 2024 table composed with the 2024 reform. SSB table
  11618 2019 data mapped to 2020 codes: national totals exact, per kommune within ~6 % of 2020.
  Splits (whole kommune divided): 5012 Snillfjord -> Hitra/Orkland/Heim, 1850 Tysfjord ->
  Hamarøy/Narvik. Border transfers large enough to show in the data and hence also marked as
  splits: 0822 Sauherad (Hjuksebø to Notodden), 1439 Vågsøy (Bryggja to Stad). Smaller border
  adjustments of 2020 (a few dozen persons) are NOT modelled: they are within the checks' noise.
- 2024 (2020 -> 2024 codes): Viken -> Østfold/Akershus/Buskerud (31xx/32xx/33xx), Vestfold og
  Telemark -> 39xx/40xx, Troms og Finnmark -> 55xx/56xx, 1507 Ålesund split into 1508 Ålesund and
  1580 Haram (pre-2020 codes map exactly: Haram's old borders were restored). Cross-checked
  against lauriejh/regtools only (no 2024 data here to test against).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from centrality.errors import InputError, listing, require_columns
_CODES_2017 = """
0101 0104 0105 0106 0111 0118 0119 0121 0122 0123 0124 0125 0127 0128 0135 0136 0137 0138 0211 0213
0214 0215 0216 0217 0219 0220 0221 0226 0227 0228 0229 0230 0231 0233 0234 0235 0236 0237 0238 0239
0301 0402 0403 0412 0415 0417 0418 0419 0420 0423 0425 0426 0427 0428 0429 0430 0432 0434 0436 0437
0438 0439 0441 0501 0502 0511 0512 0513 0514 0515 0516 0517 0519 0520 0521 0522 0528 0529 0532 0533
0534 0536 0538 0540 0541 0542 0543 0544 0545 0602 0604 0605 0612 0615 0616 0617 0618 0619 0620 0621
0622 0623 0624 0625 0626 0627 0628 0631 0632 0633 0701 0702 0704 0709 0710 0711 0713 0714 0716 0722
0723 0728 0805 0806 0807 0811 0814 0815 0817 0819 0821 0822 0826 0827 0828 0829 0830 0831 0833 0834
0901 0904 0906 0911 0912 0914 0919 0926 0928 0929 0935 0937 0938 0940 0941 1001 1002 1003 1004 1014
1017 1018 1021 1026 1027 1029 1032 1034 1037 1046 1101 1102 1103 1106 1111 1112 1114 1119 1120 1121
1122 1124 1127 1129 1130 1133 1134 1135 1141 1142 1144 1145 1146 1149 1151 1160 1201 1211 1216 1219
1221 1222 1223 1224 1227 1228 1231 1232 1233 1234 1235 1238 1241 1242 1243 1244 1245 1246 1247 1251
1252 1253 1256 1259 1260 1263 1264 1265 1266 1401 1411 1412 1413 1416 1417 1418 1419 1420 1421 1422
1424 1426 1428 1429 1430 1431 1432 1433 1438 1439 1441 1443 1444 1445 1449 1502 1504 1505 1511 1514
1515 1516 1517 1519 1520 1523 1524 1525 1526 1528 1529 1531 1532 1534 1535 1539 1543 1545 1546 1547
1548 1551 1554 1557 1560 1563 1566 1567 1571 1573 1576 1601 1612 1613 1617 1620 1621 1622 1624 1627
1630 1632 1633 1634 1635 1636 1638 1640 1644 1648 1653 1657 1662 1663 1664 1665 1702 1703 1711 1714
1717 1718 1719 1721 1724 1725 1736 1738 1739 1740 1742 1743 1744 1748 1749 1750 1751 1755 1756 1804
1805 1811 1812 1813 1815 1816 1818 1820 1822 1824 1825 1826 1827 1828 1832 1833 1834 1835 1836 1837
1838 1839 1840 1841 1845 1848 1849 1850 1851 1852 1853 1854 1856 1857 1859 1860 1865 1866 1867 1868
1870 1871 1874 1902 1903 1911 1913 1917 1919 1920 1922 1923 1924 1925 1926 1927 1928 1929 1931 1933
1936 1938 1939 1940 1941 1942 1943 2002 2003 2004 2011 2012 2014 2015 2017 2018 2019 2020 2021 2022
2023 2024 2025 2027 2028 2030
"""
_CODES_2018 = """
0101 0104 0105 0106 0111 0118 0119 0121 0122 0123 0124 0125 0127 0128 0135 0136 0137 0138 0211 0213
0214 0215 0216 0217 0219 0220 0221 0226 0227 0228 0229 0230 0231 0233 0234 0235 0236 0237 0238 0239
0301 0402 0403 0412 0415 0417 0418 0419 0420 0423 0425 0426 0427 0428 0429 0430 0432 0434 0436 0437
0438 0439 0441 0501 0502 0511 0512 0513 0514 0515 0516 0517 0519 0520 0521 0522 0528 0529 0532 0533
0534 0536 0538 0540 0541 0542 0543 0544 0545 0602 0604 0605 0612 0615 0616 0617 0618 0619 0620 0621
0622 0623 0624 0625 0626 0627 0628 0631 0632 0633 0701 0704 0710 0711 0712 0713 0715 0716 0729 0805
0806 0807 0811 0814 0815 0817 0819 0821 0822 0826 0827 0828 0829 0830 0831 0833 0834 0901 0904 0906
0911 0912 0914 0919 0926 0928 0929 0935 0937 0938 0940 0941 1001 1002 1003 1004 1014 1017 1018 1021
1026 1027 1029 1032 1034 1037 1046 1101 1102 1103 1106 1111 1112 1114 1119 1120 1121 1122 1124 1127
1129 1130 1133 1134 1135 1141 1142 1144 1145 1146 1149 1151 1160 1201 1211 1216 1219 1221 1222 1223
1224 1227 1228 1231 1232 1233 1234 1235 1238 1241 1242 1243 1244 1245 1246 1247 1251 1252 1253 1256
1259 1260 1263 1264 1265 1266 1401 1411 1412 1413 1416 1417 1418 1419 1420 1421 1422 1424 1426 1428
1429 1430 1431 1432 1433 1438 1439 1441 1443 1444 1445 1449 1502 1504 1505 1511 1514 1515 1516 1517
1519 1520 1523 1524 1525 1526 1528 1529 1531 1532 1534 1535 1539 1543 1545 1546 1547 1548 1551 1554
1557 1560 1563 1566 1567 1571 1573 1576 1804 1805 1811 1812 1813 1815 1816 1818 1820 1822 1824 1825
1826 1827 1828 1832 1833 1834 1835 1836 1837 1838 1839 1840 1841 1845 1848 1849 1850 1851 1852 1853
1854 1856 1857 1859 1860 1865 1866 1867 1868 1870 1871 1874 1902 1903 1911 1913 1917 1919 1920 1922
1923 1924 1925 1926 1927 1928 1929 1931 1933 1936 1938 1939 1940 1941 1942 1943 2002 2003 2004 2011
2012 2014 2015 2017 2018 2019 2020 2021 2022 2023 2024 2025 2027 2028 2030 5001 5004 5005 5011 5012
5013 5014 5015 5016 5017 5018 5019 5020 5021 5022 5023 5024 5025 5026 5027 5028 5029 5030 5031 5032
5033 5034 5035 5036 5037 5038 5039 5040 5041 5042 5043 5044 5045 5046 5047 5048 5049 5050 5051 5052
5053 5054
"""
_CODES_2020 = """
0301 1101 1103 1106 1108 1111 1112 1114 1119 1120 1121 1122 1124 1127 1130 1133 1134 1135 1144 1145
1146 1149 1151 1160 1505 1506 1507 1511 1514 1515 1516 1517 1520 1525 1528 1531 1532 1535 1539 1547
1554 1557 1560 1563 1566 1573 1576 1577 1578 1579 1804 1806 1811 1812 1813 1815 1816 1818 1820 1822
1824 1825 1826 1827 1828 1832 1833 1834 1835 1836 1837 1838 1839 1840 1841 1845 1848 1851 1853 1856
1857 1859 1860 1865 1866 1867 1868 1870 1871 1874 1875 3001 3002 3003 3004 3005 3006 3007 3011 3012
3013 3014 3015 3016 3017 3018 3019 3020 3021 3022 3023 3024 3025 3026 3027 3028 3029 3030 3031 3032
3033 3034 3035 3036 3037 3038 3039 3040 3041 3042 3043 3044 3045 3046 3047 3048 3049 3050 3051 3052
3053 3054 3401 3403 3405 3407 3411 3412 3413 3414 3415 3416 3417 3418 3419 3420 3421 3422 3423 3424
3425 3426 3427 3428 3429 3430 3431 3432 3433 3434 3435 3436 3437 3438 3439 3440 3441 3442 3443 3446
3447 3448 3449 3450 3451 3452 3453 3454 3801 3802 3803 3804 3805 3806 3807 3808 3811 3812 3813 3814
3815 3816 3817 3818 3819 3820 3821 3822 3823 3824 3825 4201 4202 4203 4204 4205 4206 4207 4211 4212
4213 4214 4215 4216 4217 4218 4219 4220 4221 4222 4223 4224 4225 4226 4227 4228 4601 4602 4611 4612
4613 4614 4615 4616 4617 4618 4619 4620 4621 4622 4623 4624 4625 4626 4627 4628 4629 4630 4631 4632
4633 4634 4635 4636 4637 4638 4639 4640 4641 4642 4643 4644 4645 4646 4647 4648 4649 4650 4651 5001
5006 5007 5014 5020 5021 5022 5025 5026 5027 5028 5029 5031 5032 5033 5034 5035 5036 5037 5038 5041
5042 5043 5044 5045 5046 5047 5049 5052 5053 5054 5055 5056 5057 5058 5059 5060 5061 5401 5402 5403
5404 5405 5406 5411 5412 5413 5414 5415 5416 5417 5418 5419 5420 5421 5422 5423 5424 5425 5426 5427
5428 5429 5430 5432 5433 5434 5435 5436 5437 5438 5439 5440 5441 5442 5443 5444
"""


def _parse(block: str) -> frozenset[str]:
    return frozenset(block.split())


CODE_LISTS: dict[str, frozenset[str]] = {
    "2017": _parse(_CODES_2017),
    "2018": _parse(_CODES_2018),
    "2020": _parse(_CODES_2020),
}

# ------------------------------------------------------------------------------------ reforms
# Each reform: "from>to" pairs (old code > new code). A code listed with several targets was
# split; several codes with one target were merged (the surviving code is listed as "X>X").
# Codes not listed keep their code. Sources: SSB KLASS 131 change lists ("endringer"), as
# restated in the public repositories folkehelseinstituttet/fhidata (redistricting tables) and
# lauriejh/regtools (tests/testthat/_snaps/harmonize_municipality_codes.md: all 429 codes of 2016
# with their 2024 successors, which we used to cross-check every 2018->2020 and 2020->2024 pair).
_REFORM_2018 = """
0702>0715 0714>0715 0709>0712 0728>0712 0722>0729 0723>0729
1601>5001 1612>5011 1613>5012 1617>5013 1620>5014 1621>5015 1622>5016 1624>5054 1627>5017
1630>5018 1632>5019 1633>5020 1634>5021 1635>5022 1636>5023 1638>5024 1640>5025 1644>5026
1648>5027 1653>5028 1657>5029 1662>5030 1663>5031 1664>5032 1665>5033 1702>5004 1703>5005
1711>5034 1714>5035 1717>5036 1718>5054 1719>5037 1721>5038 1724>5039 1725>5040 1736>5041
1738>5042 1739>5043 1740>5044 1742>5045 1743>5046 1744>5047 1748>5048 1749>5049 1750>5050
1751>5051 1755>5052 1756>5053
"""
_REFORM_2020 = """
0101>3001 0104>3002 0136>3002 0105>3003 0106>3004 0111>3011 0118>3012 0119>3013 0121>3026
0122>3014 0123>3014 0124>3014 0125>3014 0138>3014 0127>3015 0128>3016 0135>3017 0137>3018
0211>3019 0213>3020 0217>3020 0214>3021 0215>3022 0216>3023 0219>3024 0220>3025 0627>3025
0628>3025 0221>3026 0226>3030 0227>3030 0231>3030 0228>3027 0229>3028 0230>3029 0233>3031
0234>3032 0235>3033 0236>3034 0237>3035 0238>3036 0239>3037
0402>3401 0403>3403 0412>3411 0415>3412 0417>3413 0418>3414 0419>3415 0420>3416 0423>3417
0425>3418 0426>3419 0427>3420 0428>3421 0429>3422 0430>3423 0432>3424 0434>3425 0436>3426
0437>3427 0438>3428 0439>3429 0441>3430 0501>3405 0502>3407 0511>3431 0512>3432 0513>3433
0514>3434 0515>3435 0516>3436 0517>3437 0519>3438 0520>3439 0521>3440 0522>3441 0528>3442
0529>3443 0532>3053 0533>3054 0534>3446 0536>3447 0538>3448 0540>3449 0541>3450 0542>3451
0543>3452 0544>3453 0545>3454
0602>3005 0625>3005 0711>3005 0604>3006 0605>3007 0612>3038 0615>3039 0616>3040 0617>3041
0618>3042 0619>3043 0620>3044 0621>3045 0622>3046 0623>3047 0624>3048 0626>3049 0631>3050
0632>3051 0633>3052
0701>3801 0715>3802 0713>3802 0704>3803 0716>3803 0710>3804 0712>3805 0729>3811
0805>3806 0806>3807 0807>3808 0811>3812 0814>3813 0815>3814 0817>3815 0819>3816 0821>3817
0822>3817 0822>3808 0826>3818 0827>3819 0828>3820 0829>3821 0830>3822 0831>3823 0833>3824 0834>3825
0901>4201 0904>4202 0906>4203 0911>4211 0912>4212 0914>4213 0919>4214 0926>4215 0928>4216
0929>4217 0935>4218 0937>4219 0938>4220 0940>4221 0941>4222 1001>4204 1017>4204 1018>4204
1002>4205 1021>4205 1029>4205 1003>4206 1004>4207 1014>4223 1026>4224 1027>4225 1032>4225
1034>4226 1037>4227 1046>4228
1102>1108 1129>1108 1103>1103 1141>1103 1142>1103
1201>4601 1211>4611 1216>4612 1219>4613 1221>4614 1222>4615 1223>4616 1224>4617 1227>4618
1228>4618 1231>4618 1232>4619 1233>4620 1234>4621 1235>4621 1238>4622 1241>4624 1243>4624
1242>4623 1244>4625 1245>4626 1246>4626 1259>4626 1247>4627 1251>4628 1252>4629 1253>4630
1256>4631 1260>4631 1263>4631 1264>4632 1265>4633 1266>4634
1401>4602 1439>4602 1439>4649 1411>4635 1412>4636 1413>4637 1416>4638 1417>4639 1418>4640 1419>4640
1420>4640 1421>4641 1422>4642 1424>4643 1426>4644 1428>4645 1429>4646 1430>4647 1431>4647
1432>4647 1433>4647 1438>4648 1441>4649 1443>4649 1445>4650 1449>4651
1502>1506 1543>1506 1545>1506 1504>1507 1523>1507 1529>1507 1534>1507 1546>1507 1519>1577
1444>1577 1524>1578 1526>1578 1548>1579 1551>1579 1567>5061 1571>5055
1805>1806 1854>1806 1850>1875 1850>1806 1849>1875 1852>5412
1902>5401 1903>5402 1911>5411 1913>5412 1917>5413 1919>5414 1920>5415 1922>5416 1923>5417
1924>5418 1925>5419 1926>5420 1927>5421 1928>5421 1929>5421 1931>5421 1933>5422 1936>5423
1938>5424 1939>5425 1940>5426 1941>5427 1942>5428 1943>5429
2002>5404 2003>5405 2004>5406 2017>5406 2011>5430 2012>5403 2014>5432 2015>5433 2018>5434
2019>5435 2020>5436 2021>5437 2022>5438 2023>5439 2024>5440 2025>5441 2027>5442 2028>5443
2030>5444
5004>5006 5039>5006 5005>5007 5040>5007 5048>5007 5011>5055 5012>5056 5012>5059 5012>5055
5013>5056 5015>5057 5017>5057 5018>5058 5019>5058 5016>5059 5023>5059 5024>5059 5030>5001
5001>5001 5050>5060 5051>5060
"""
_REFORM_2024 = """
3001>3101 3002>3103 3003>3105 3004>3107 3011>3110 3012>3124 3013>3122 3014>3118 3015>3116
3016>3120 3017>3112 3018>3114
3019>3216 3020>3207 3021>3218 3022>3214 3023>3212 3024>3201 3025>3203 3026>3226 3027>3224
3028>3220 3029>3222 3030>3205 3031>3232 3032>3230 3033>3209 3034>3228 3035>3240 3036>3238
3037>3242 3053>3236 3054>3234
3005>3301 3006>3303 3007>3305 3038>3310 3039>3320 3040>3322 3041>3324 3042>3326 3043>3328
3044>3330 3045>3332 3046>3318 3047>3316 3048>3314 3049>3312 3050>3334 3051>3336 3052>3338
3801>3901 3802>3903 3803>3905 3804>3907 3805>3909 3811>3911
3806>4001 3807>4003 3808>4005 3812>4010 3813>4012 3814>4014 3815>4016 3816>4018 3817>4020
3818>4026 3819>4024 3820>4022 3821>4028 3822>4030 3823>4032 3824>4034 3825>4036
1507>1508 1507>1580
5401>5501 5402>5503 5411>5510 5412>5512 5413>5514 5414>5516 5415>5518 5416>5520 5417>5522
5418>5524 5419>5526 5420>5528 5421>5530 5422>5532 5423>5534 5424>5536 5425>5538 5426>5540
5427>5542 5428>5544 5429>5546
5403>5601 5404>5634 5405>5607 5406>5603 5430>5612 5432>5614 5433>5616 5434>5618 5435>5620
5436>5622 5437>5610 5438>5624 5439>5626 5440>5630 5441>5628 5442>5636 5443>5632 5444>5605
"""

# The 2024 split of Ålesund (1507) restored Haram's pre-2020 area: pre-2020 codes map exactly.
_PRE2020_TO_2024 = {"1534": ("1580",), "1504": ("1508",), "1523": ("1508",), "1529": ("1508",),
                    "1546": ("1508",)}

SYSTEMS = ("2017", "2018", "2020", "2024")
VALID_FROM = {"2018": "2018-01-01", "2020": "2020-01-01", "2024": "2024-01-01"}

# Names of the kommuner involved in splits (for readable error messages).
SPLIT_NAMES = {"5012": "Snillfjord", "1613": "Snillfjord", "1850": "Tysfjord", "0822": "Sauherad", "1439": "Vågsøy",
               "3817": "Midt-Telemark", "3808": "Notodden", "4602": "Kinn", "4649": "Stad", "1507": "Ålesund (2020-2023)",
               "5055": "Heim", "5056": "Hitra", "5059": "Orkland", "1806": "Narvik", "1875": "Hamarøy",
               "1508": "Ålesund", "1580": "Haram"}


@dataclass(frozen=True)
class CodeChange:
    """One old code -> new code pair of a reform. ``kind``: 'rename' (1:1, new number only),
    'merge' (several old codes -> this new code) or 'split' (the old area went to several codes)."""

    from_code: str
    to_code: str
    valid_from: str  # ISO date the new code is valid from
    kind: str


def _build_changes(block: str, valid_from: str) -> tuple[CodeChange, ...]:
    pairs = [tuple(p.split(">")) for p in block.split()]
    targets: dict[str, set[str]] = {}
    sources: dict[str, set[str]] = {}
    for old, new in pairs:
        targets.setdefault(old, set()).add(new)
        sources.setdefault(new, set()).add(old)
    out = []
    for old, new in pairs:
        kind = "split" if len(targets[old]) > 1 else "merge" if len(sources[new]) > 1 else "rename"
        out.append(CodeChange(old, new, valid_from, kind))
    return tuple(out)


CHANGES: dict[str, tuple[CodeChange, ...]] = {
    "2018": _build_changes(_REFORM_2018, VALID_FROM["2018"]),
    "2020": _build_changes(_REFORM_2020, VALID_FROM["2020"]),
    "2024": _build_changes(_REFORM_2024, VALID_FROM["2024"]),
}


def _next_list(codes: frozenset[str], changes: tuple[CodeChange, ...]) -> frozenset[str]:
    changed = {c.from_code for c in changes}
    return frozenset((codes - changed) | {c.to_code for c in changes})


CODE_LISTS["2024"] = _next_list(CODE_LISTS["2020"], CHANGES["2024"])


def changes_table(reform: str | None = None) -> pd.DataFrame:
    """All kommune code changes.

    Parameters
    ----------
    reform : str, optional
        Only this reform (e.g. "2020").

    Returns
    -------
    pandas.DataFrame
        reform, from_code, to_code, valid_from, kind.
    """
    rows = [{"reform": r, **asdict(c)} for r, cs in CHANGES.items() if reform in (None, r) for c in cs]
    return pd.DataFrame(rows, columns=["reform", "from_code", "to_code", "valid_from", "kind"])


def system_for_year(year: int) -> str:
    """Code system in force on 1 January of ``year``.

    Parameters
    ----------
    year : int
        Calendar year (2017 or later).

    Returns
    -------
    str
        '2017', '2018', '2020' or '2024'.
    """
    year = int(year)
    if year < 2017:
        raise InputError(f"no kommune code list for {year}: code lists start in 2017. Use data in 2017 or "
                         "later codes, or harmonise older data to 2020 codes before loading.")
    return "2017" if year == 2017 else "2018" if year < 2020 else "2020" if year < 2024 else "2024"


def _system_name(system: str | int) -> str:
    name = str(system)
    if name not in CODE_LISTS:
        raise InputError(f"unknown kommune code system {system!r}; choose one of {', '.join(SYSTEMS)}.")
    return name


def known_codes(system: str | int) -> frozenset[str]:
    """The kommune codes of a code system (see module docstring).

    Parameters
    ----------
    system : str or int
        '2017', '2018', '2020' or '2024'.

    Returns
    -------
    frozenset of str
    """
    return CODE_LISTS[_system_name(system)]


def code_system_of(codes: Iterable[str]) -> str:
    """Detect the code system of a set of codes.

    Many codes (e.g. 0301) are valid in every system, so a short list of unchanged codes is
    reported as the newest system.

    Parameters
    ----------
    codes : iterable of str
        Kommune codes.

    Returns
    -------
    str
        The system whose list equals the codes exactly; otherwise the newest system that contains
        all of them; 'mixed' when no single system contains them but their union does (e.g. 1601
        Trondheim-2017 together with 3001 Halden-2020); 'unknown' when some code is in no list.
    """
    codes = set(map(str, codes))
    for name in SYSTEMS:
        if codes == CODE_LISTS[name]:
            return name
    containing = [name for name in SYSTEMS if codes <= CODE_LISTS[name]]
    if containing:
        return containing[-1]
    if codes <= frozenset().union(*CODE_LISTS.values()):
        return "mixed"
    return "unknown"


def check_code_system(codes: Iterable[str], system: str | int, what: str = "table") -> None:
    """Raise InputError when some codes do not belong to the code system.

    Parameters
    ----------
    codes : iterable of str
        Kommune codes.
    system : str or int
        A code-system name ('2017', '2018', '2020', '2024') or a year (:func:`system_for_year`).
    what : str
        The table, for messages. The error lists the unknown codes and, when they belong to
        another code system, says which one and how to map them.
    """
    name = system_for_year(system) if isinstance(system, (int, np.integer)) else str(system)
    known = known_codes(name)
    unknown = sorted(set(codes) - known)
    if not unknown:
        return
    guess = code_system_of(unknown)
    hint = (f" They look like {guess} codes: harmonise them with "
            f"geoproc.data.codes.harmonise(df, ..., from_system='{guess}', to_system='{name}')."
            if guess not in ("mixed", "unknown") and guess != name else
            " Check for typos, or map old codes with geoproc.data.codes.harmonise(...).")
    raise InputError(f"{what}: {len(unknown)} kommune code(s) are not in the {name} code system "
                     f"({len(known)} codes): {listing(unknown)}.{hint}")


def mapping(from_system: str | int, to_system: str | int) -> dict[str, tuple[str, ...]]:
    """Old code -> new codes, composed over the reforms between the two systems.

    Parameters
    ----------
    from_system, to_system : str or int
        Code systems.

    Returns
    -------
    dict
        ``{old code: tuple of new codes}``; a tuple of length > 1 is a split; unchanged codes map
        to themselves.
    """
    start, end = SYSTEMS.index(_system_name(from_system)), SYSTEMS.index(_system_name(to_system))
    if end < start:
        raise InputError(f"cannot map kommune codes backwards from {from_system} to {to_system}: merged "
                         "kommuner cannot be separated. Harmonise to the newer code system instead.")
    current = {c: (c,) for c in CODE_LISTS[SYSTEMS[start]]}
    for reform in SYSTEMS[start + 1:end + 1]:
        step: dict[str, list[str]] = {}
        for ch in CHANGES[reform]:
            step.setdefault(ch.from_code, []).append(ch.to_code)
        current = {old: tuple(dict.fromkeys(t for n in news for t in step.get(n, [n])))
                   for old, news in current.items()}
        if reform == "2024":  # Ålesund 2020 was split along the old (pre-2020) borders
            current.update({c: t for c, t in _PRE2020_TO_2024.items() if c in current})
    return current


def split_codes(from_system: str | int, to_system: str | int) -> dict[str, tuple[str, ...]]:
    """Codes of ``from_system`` whose area was divided between several ``to_system`` codes.

    Parameters
    ----------
    from_system, to_system : str or int
        Code systems.

    Returns
    -------
    dict
        ``{old code: tuple of new codes}`` (splits only).
    """
    return {old: news for old, news in mapping(from_system, to_system).items() if len(news) > 1}


def harmonise(df: pd.DataFrame, code_col: str, value_cols: Sequence[str], from_system: str | int,
              to_system: str | int, on_split: str = "raise", keys: Sequence[str] | None = None) -> pd.DataFrame:
    """Re-code ``df[code_col]`` from one code system to a newer one.

    Renamed codes are mapped, merged kommuner are **summed** over all other (key) columns. Never
    mixes code systems silently: every input code must belong to ``from_system``.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    code_col : str
        Kommune code column.
    value_cols : sequence of str
        Additive counts (persons), never rates or shares.
    from_system, to_system : str or int
        Code systems.
    on_split : {"raise", "flag", "main"}, default "raise"
        Split kommuner (:func:`split_codes`) cannot be divided without extra data: "raise" lists
        them in an InputError; "flag" keeps their rows under the old code with ``split=True`` (a
        bool column ``split`` is added to every row); "main" (approximate) gives the whole split
        kommune to its main successor (the first listed: the one that received most of its 15–74
        population according to SSB 11618 2019 vs 2020) and ``split`` marks the main successors.
    keys : sequence of str, optional
        Columns to sum over besides ``code_col`` (default: every column not in ``value_cols``; pass
        them to drop descriptive columns such as names, which differ between merged kommuner).

    Returns
    -------
    pandas.DataFrame
        The table in ``to_system`` codes.
    """
    if on_split not in ("raise", "flag", "main"):
        raise InputError(f"on_split must be 'raise', 'flag' or 'main', not {on_split!r}.")
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"the table to harmonise must be a pandas DataFrame, got {type(df).__name__}.")
    require_columns(df.columns, [code_col, *value_cols], f"table to harmonise ({code_col})")
    check_code_system(df[code_col].astype(str).unique(), str(from_system), f"table to harmonise ({code_col})")
    table = mapping(from_system, to_system)
    splits = {c: t for c, t in split_codes(from_system, to_system).items() if c in set(df[code_col])}
    if splits and on_split == "raise":
        listing = "; ".join(f"{c} {SPLIT_NAMES.get(c, '')} -> {', '.join(t)}".replace("  ", " ") for c, t in splits.items())
        raise InputError(f"{code_col}: kommuner split between several {to_system} kommuner cannot be harmonised "
                         f"by summing: {listing}. Pass on_split='flag' to keep them under their old code "
                         "(marked split=True) and decide yourself (e.g. drop them and their successors), or "
                         "on_split='main' to give each wholly to its main successor (approximate).")
    descriptive = [c for c in df.columns if keys is None and c not in (code_col, *value_cols)
                   and any(w in str(c).lower() for w in ("name", "label", "navn"))]
    if descriptive:
        raise InputError(f"table to harmonise has descriptive column(s) {', '.join(map(repr, descriptive))}, which "
                         "differ between merged kommuner and would keep them apart; drop them or pass keys=[...] "
                         "with the key columns only (e.g. keys=['year']).")
    out = df.copy() if keys is None else df[list(dict.fromkeys([*keys, code_col, *value_cols, *(
        ["split"] if "split" in df.columns else [])]))].copy()
    out[code_col] = out[code_col].astype(str)
    is_split = out[code_col].isin(list(splits))
    new_codes = out[code_col].map(lambda c: table[c][0])
    if on_split == "main":
        is_split = new_codes.isin([t[0] for t in splits.values()])
    else:
        new_codes = new_codes.where(~is_split, out[code_col])
    out["split"] = (out["split"].astype(bool) if "split" in out.columns else False) | is_split
    out[code_col] = new_codes
    group = [c for c in out.columns if c not in value_cols]
    summed = out.groupby(group, sort=True, dropna=False)[list(value_cols)].sum().reset_index()
    summed = summed[list(out.columns)]
    if on_split == "raise" and "split" not in df.columns:
        summed = summed.drop(columns="split")
    return summed
