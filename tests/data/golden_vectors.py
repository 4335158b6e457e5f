"""Real destinations and SYN packets captured from Java I2P 2.7.0 and i2pd 2.56.0.

Copied from /work/shared/vectors/syn-*.json (see its README): each SYN is signed by the sender
(Ed25519, signature = last 64 bytes, verified with those bytes zeroed) and carries the SHA-256
of the receiver destination at bytes 17..49 (the NACK replay-prevention hash).
"""

from __future__ import annotations

VECTORS: dict[str, dict[str, str]] = {
    "java": {
        "sender_destination": (
            "MlwU3djVFHumZOCQGKwL6xVIDUVpSAitd8kDlibt7h8yXBTd2NUUe6Zk4JAYrAvrFUgNRWlICK13yQOWJu3u"
            "HzJcFN3Y1RR7pmTgkBisC-sVSA1FaUgIrXfJA5Ym7e4fMlwU3djVFHumZOCQGKwL6xVIDUVpSAitd8kDlibt"
            "7h8yXBTd2NUUe6Zk4JAYrAvrFUgNRWlICK13yQOWJu3uHzJcFN3Y1RR7pmTgkBisC-sVSA1FaUgIrXfJA5Ym"
            "7e4fMlwU3djVFHumZOCQGKwL6xVIDUVpSAitd8kDlibt7h8yXBTd2NUUe6Zk4JAYrAvrFUgNRWlICK13yQOW"
            "Ju3uHzJcFN3Y1RR7pmTgkBisC-sVSA1FaUgIrXfJA5Ym7e4fMlwU3djVFHumZOCQGKwL6xVIDUVpSAitd8kD"
            "libt7h8yXBTd2NUUe6Zk4JAYrAvrFUgNRWlICK13yQOWJu3uH6wPzc10IGsBj0NQfq~ioPCNfh-B46z-2tWw"
            "bBwptCqvBQAEAAcAAA=="
        ),
        "receiver_destination": (
            "mvMsjpjzcYwst1LtrhRn1Djwptj1lXOth4x~W06BAx~pbYtE-kd7Z~zoYWC5g7mbO1Xqvm8P7qerG3vTpReA"
            "mkZ6i1jDCUyp5e8Mc5BloNNWAIhcKglG4mKa2qT4l-HwT9LCUIOlaC-0~0gLY5gww09XxlkUevBrEEyYYa66"
            "dZO7lN2MIO3~BZsBQC8KUGxo4WcEzUQpvEr9XelHolAmHhDlEPURE8ltS08plqV2BoGUGBVVt8bGETQQh4Az"
            "7a2oG-WnhxcsmdKiouLuf4ad80caMHJNeWJCq4MFQ2AvpVL9DCWuF0rFoRz4nSyip4ch6QZCCQFaZYYdJgy5"
            "ZHx8pCQkZ4UM1jTaU7HFRpG7pepoOHoy-aCk8as9silKyF-pzR-C3boo-oGdH3WkfsPsbhYa5g0wpnP3iMA2"
            "0a-wVrOeSHTGNakepJulETXUjd6EbK3zIFU-dIyy0fougFJRgcEwC0ufGC57iTCaLfEmKYbJ1K4Cf6gFiD5g"
            "V~Vw4qFBBQAEAAcAAA=="
        ),
        "packet": (
            "AAAAAEyEgPIAAAAAAAAAAAiKj8R0p0drviHyl+Y7sctJWZ4AG/haPI0lsVdugT8kMwEE6QHLAAAyXBTd2NUU"
            "e6Zk4JAYrAvrFUgNRWlICK13yQOWJu3uHzJcFN3Y1RR7pmTgkBisC+sVSA1FaUgIrXfJA5Ym7e4fMlwU3djV"
            "FHumZOCQGKwL6xVIDUVpSAitd8kDlibt7h8yXBTd2NUUe6Zk4JAYrAvrFUgNRWlICK13yQOWJu3uHzJcFN3Y"
            "1RR7pmTgkBisC+sVSA1FaUgIrXfJA5Ym7e4fMlwU3djVFHumZOCQGKwL6xVIDUVpSAitd8kDlibt7h8yXBTd"
            "2NUUe6Zk4JAYrAvrFUgNRWlICK13yQOWJu3uHzJcFN3Y1RR7pmTgkBisC+sVSA1FaUgIrXfJA5Ym7e4fMlwU"
            "3djVFHumZOCQGKwL6xVIDUVpSAitd8kDlibt7h8yXBTd2NUUe6Zk4JAYrAvrFUgNRWlICK13yQOWJu3uHzJc"
            "FN3Y1RR7pmTgkBisC+sVSA1FaUgIrXfJA5Ym7e4frA/NzXQgawGPQ1B+r+Kg8I1+H4HjrP7a1bBsHCm0Kq8F"
            "AAQABwAABsLyNeWAYD5wg9/3WFTkd+dswn4C7UePtuqg34R+pQeh6JalKdreYvcg8zDccvdOxIFuonhiiCyT"
            "q6vunIN3jgAO"
        ),
    },
    "i2pd": {
        "sender_destination": (
            "I~3sLXhHSVyFQZJ-tm9BiGzGscFifRMStc1vc1aTlNUj~ewteEdJXIVBkn62b0GIbMaxwWJ9ExK1zW9zVpOU"
            "1SP97C14R0lchUGSfrZvQYhsxrHBYn0TErXNb3NWk5TVI~3sLXhHSVyFQZJ-tm9BiGzGscFifRMStc1vc1aT"
            "lNUj~ewteEdJXIVBkn62b0GIbMaxwWJ9ExK1zW9zVpOU1SP97C14R0lchUGSfrZvQYhsxrHBYn0TErXNb3NW"
            "k5TVI~3sLXhHSVyFQZJ-tm9BiGzGscFifRMStc1vc1aTlNUj~ewteEdJXIVBkn62b0GIbMaxwWJ9ExK1zW9z"
            "VpOU1SP97C14R0lchUGSfrZvQYhsxrHBYn0TErXNb3NWk5TVI~3sLXhHSVyFQZJ-tm9BiGzGscFifRMStc1v"
            "c1aTlNUj~ewteEdJXIVBkn62b0GIbMaxwWJ9ExK1zW9zVpOU1QFFUGpRZAwGLJfgxNiZYHaAYs4pfkyl7dOe"
            "9zWzCLdjBQAEAAcAAA=="
        ),
        "receiver_destination": (
            "DpN43eh9djsrwWzNCc0XQ0nhf-Tf9lOwR56Rb1jrwEP~03MspeFLXDOjUe9NE1gZYLeXCo4ywKSgUAlOISNh"
            "qwWqQ9VMNbn7RoktIi5bPz5GqfSxdeSlzZUKdb93o84dFzDbfE8DJvyxcFaobi6E~98UxS3OsavbTERcWq2U"
            "E6PV74xtIvQJ1QCWkR9qJIyiYZxk9qCqJ8sQ1bl-OIQ8Opg2tHBUecvvVuf2JMIK70qFZZWGBwH5kkZW19uc"
            "TKcZRmoJW5Fp34e8-lJfwJz3vYOq1ZiAaau3P4Ktv6suZRlZRw1ULIj5OGKSgC8MUrrOcP9BVtOyCn8waz4v"
            "yxpaom1ADXFMDr5~xnpD8v7wkL3XIOeQ1HQoZ7pwhV-b02-U1u6WSagfad2B-3h2mFs~bFhK8sdZwKA4jiTt"
            "rcOnb843hspdMuLDrjWCvRwLgf-s2Daltm~FT3rXwo1ZP6Id7b14RphN49QrC3101vC4Ush2WRRPqvujrtu6"
            "wZrKFIsgBQAEAAcAAA=="
        ),
        "packet": (
            "AAAAAAHLSLcAAAAAAAAAAAhASivTEaaOIy1BVkz4TO5BcGzvKHzp3dHJP2MA0Iby0gkEqQHJI/3sLXhHSVyF"
            "QZJ+tm9BiGzGscFifRMStc1vc1aTlNUj/ewteEdJXIVBkn62b0GIbMaxwWJ9ExK1zW9zVpOU1SP97C14R0lc"
            "hUGSfrZvQYhsxrHBYn0TErXNb3NWk5TVI/3sLXhHSVyFQZJ+tm9BiGzGscFifRMStc1vc1aTlNUj/ewteEdJ"
            "XIVBkn62b0GIbMaxwWJ9ExK1zW9zVpOU1SP97C14R0lchUGSfrZvQYhsxrHBYn0TErXNb3NWk5TVI/3sLXhH"
            "SVyFQZJ+tm9BiGzGscFifRMStc1vc1aTlNUj/ewteEdJXIVBkn62b0GIbMaxwWJ9ExK1zW9zVpOU1SP97C14"
            "R0lchUGSfrZvQYhsxrHBYn0TErXNb3NWk5TVI/3sLXhHSVyFQZJ+tm9BiGzGscFifRMStc1vc1aTlNUj/ewt"
            "eEdJXIVBkn62b0GIbMaxwWJ9ExK1zW9zVpOU1QFFUGpRZAwGLJfgxNiZYHaAYs4pfkyl7dOe9zWzCLdjBQAE"
            "AAcAAAcUwdMqo1VIydVnrviKandG14PKvuB4yP0IDFs+7z02RHkvoQ68WL3HIXHHgVCdy74CbnbaON0Eq6Lz"
            "hUo2wFSIBQ=="
        ),
    },
}
