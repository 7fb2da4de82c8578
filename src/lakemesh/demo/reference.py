"""Fixed vocabularies behind the NimbusCart data: countries, names, products, carriers.

Everything here is plain data; the generators sample from it with seeded numpy draws. Names are
ASCII so that e-mail addresses can be built from them directly; phone templates use ``#`` for a
random digit.
"""

from __future__ import annotations

from dataclasses import dataclass

REGIONS = ("EU", "NA", "APAC", "LATAM")
"""Sales regions, in the order the generators index them."""

REGION_WEIGHTS = (0.34, 0.36, 0.20, 0.10)
"""Share of customers (and so of orders) per region."""


@dataclass(frozen=True)
class Country:
    """One market NimbusCart sells in."""

    code: str  # ISO 3166-1 alpha-2
    region: str
    weight: float  # share of its region's customers
    currency: str
    tax_rate: float  # VAT / GST / typical sales tax
    labour_cost: float  # salary level relative to the US
    names: str  # key into FIRST_NAMES / LAST_NAMES
    phones: tuple[str, ...]
    cities: tuple[str, ...]


COUNTRIES = (
    Country("GB", "EU", 0.22, "GBP", 0.20, 0.75, "en",
            ("+44 20 #### ####", "+44 161 ### ####", "+44 7### ######"),
            ("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol")),
    Country("DE", "EU", 0.22, "EUR", 0.19, 0.80, "de",
            ("+49 30 ########", "+49 89 #######", "+49 15# #######"),
            ("Berlin", "Munich", "Hamburg", "Cologne", "Frankfurt", "Stuttgart")),
    Country("FR", "EU", 0.17, "EUR", 0.20, 0.72, "fr",
            ("+33 1 ## ## ## ##", "+33 4 ## ## ## ##", "+33 6 ## ## ## ##"),
            ("Paris", "Lyon", "Marseille", "Toulouse", "Lille", "Bordeaux")),
    Country("ES", "EU", 0.11, "EUR", 0.21, 0.55, "es",
            ("+34 91 ### ## ##", "+34 93 ### ## ##", "+34 6## ### ###"),
            ("Madrid", "Barcelona", "Valencia", "Seville", "Bilbao")),
    Country("IT", "EU", 0.11, "EUR", 0.22, 0.58, "it",
            ("+39 02 #### ####", "+39 06 #### ####", "+39 3## ### ####"),
            ("Milan", "Rome", "Turin", "Naples", "Bologna", "Florence")),
    Country("NL", "EU", 0.07, "EUR", 0.21, 0.80, "nl",
            ("+31 20 ### ####", "+31 10 ### ####", "+31 6 ########"),
            ("Amsterdam", "Rotterdam", "Utrecht", "The Hague", "Eindhoven")),
    Country("SE", "EU", 0.04, "SEK", 0.25, 0.78, "sv",
            ("+46 8 ### ### ##", "+46 31 ### ## ##", "+46 70 ### ## ##"),
            ("Stockholm", "Gothenburg", "Malmo", "Uppsala")),
    Country("PL", "EU", 0.04, "PLN", 0.23, 0.40, "pl",
            ("+48 22 ### ## ##", "+48 12 ### ## ##", "+48 5## ### ###"),
            ("Warsaw", "Krakow", "Gdansk", "Wroclaw", "Poznan")),
    Country("IE", "EU", 0.02, "EUR", 0.23, 0.85, "en",
            ("+353 1 ### ####", "+353 8# ### ####"),
            ("Dublin", "Cork", "Galway")),
    Country("US", "NA", 0.86, "USD", 0.07, 1.00, "en",
            ("+1 212 555 ####", "+1 415 555 ####", "+1 312 555 ####", "+1 512 555 ####",
             "+1 206 555 ####", "+1 305 555 ####"),
            ("New York", "San Francisco", "Chicago", "Austin", "Seattle", "Miami", "Boston",
             "Denver", "Atlanta", "Los Angeles")),
    Country("CA", "NA", 0.14, "CAD", 0.13, 0.82, "en",
            ("+1 416 555 ####", "+1 604 555 ####", "+1 514 555 ####"),
            ("Toronto", "Vancouver", "Montreal", "Calgary", "Ottawa")),
    Country("JP", "APAC", 0.30, "JPY", 0.10, 0.70, "ja",
            ("+81 3 #### ####", "+81 6 #### ####", "+81 90 #### ####"),
            ("Tokyo", "Osaka", "Yokohama", "Nagoya", "Fukuoka", "Sapporo")),
    Country("AU", "APAC", 0.22, "AUD", 0.10, 0.85, "en",
            ("+61 2 #### ####", "+61 3 #### ####", "+61 4## ### ###"),
            ("Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide")),
    Country("IN", "APAC", 0.18, "INR", 0.18, 0.22, "hi",
            ("+91 22 #### ####", "+91 80 #### ####", "+91 98### #####"),
            ("Mumbai", "Bengaluru", "Delhi", "Hyderabad", "Chennai", "Pune")),
    Country("KR", "APAC", 0.12, "KRW", 0.10, 0.62, "ko",
            ("+82 2 #### ####", "+82 10 #### ####"),
            ("Seoul", "Busan", "Incheon", "Daegu")),
    Country("SG", "APAC", 0.10, "SGD", 0.09, 0.88, "zh",
            ("+65 6### ####", "+65 9### ####"),
            ("Singapore",)),
    Country("NZ", "APAC", 0.08, "NZD", 0.15, 0.70, "en",
            ("+64 9 ### ####", "+64 21 ### ####"),
            ("Auckland", "Wellington", "Christchurch")),
    Country("BR", "LATAM", 0.42, "BRL", 0.17, 0.30, "pt",
            ("+55 11 ####-####", "+55 21 ####-####", "+55 11 9####-####"),
            ("Sao Paulo", "Rio de Janeiro", "Belo Horizonte", "Brasilia", "Curitiba")),
    Country("MX", "LATAM", 0.28, "MXN", 0.16, 0.28, "es",
            ("+52 55 #### ####", "+52 33 #### ####", "+52 81 #### ####"),
            ("Mexico City", "Guadalajara", "Monterrey", "Puebla")),
    Country("AR", "LATAM", 0.10, "ARS", 0.21, 0.25, "es",
            ("+54 11 ####-####", "+54 351 ###-####"),
            ("Buenos Aires", "Cordoba", "Rosario")),
    Country("CL", "LATAM", 0.10, "CLP", 0.19, 0.35, "es",
            ("+56 2 #### ####", "+56 9 #### ####"),
            ("Santiago", "Valparaiso", "Concepcion")),
    Country("CO", "LATAM", 0.10, "COP", 0.19, 0.24, "es",
            ("+57 1 ### ####", "+57 3## ### ####"),
            ("Bogota", "Medellin", "Cali", "Barranquilla")),
)  # fmt: skip

CURRENCIES: dict[str, tuple[float, int]] = {
    # code: (units per USD, minor-unit digits used in prices)
    "USD": (1.0, 2),
    "EUR": (0.92, 2),
    "GBP": (0.79, 2),
    "SEK": (10.6, 2),
    "PLN": (3.95, 2),
    "CAD": (1.37, 2),
    "JPY": (150.0, 0),
    "AUD": (1.52, 2),
    "INR": (84.0, 2),
    "KRW": (1370.0, 0),
    "SGD": (1.34, 2),
    "NZD": (1.66, 2),
    "BRL": (5.6, 2),
    "MXN": (18.5, 2),
    "ARS": (1050.0, 0),
    "CLP": (940.0, 0),
    "COP": (4100.0, 0),
}

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("James", "Oliver", "Emma", "Olivia", "Amelia", "Noah", "Liam", "Sophia", "Charlotte",
           "Jack", "Harry", "Isla", "Grace", "Emily", "Michael", "Sarah", "David", "Jessica",
           "Daniel", "Laura", "Thomas", "Hannah", "Ethan", "Chloe", "Samuel", "Megan", "Ryan",
           "Lucy", "Benjamin", "Ava"),
    "de": ("Lukas", "Leon", "Finn", "Jonas", "Felix", "Paul", "Maximilian", "Anna", "Lena",
           "Mia", "Hannah", "Lea", "Sophie", "Marie", "Julia", "Katharina", "Stefan", "Andreas",
           "Tobias", "Jan", "Sabine", "Monika", "Klaus", "Juergen", "Petra"),
    "fr": ("Louis", "Gabriel", "Arthur", "Jules", "Hugo", "Lucas", "Adam", "Camille", "Lea",
           "Manon", "Chloe", "Ines", "Sarah", "Juliette", "Pierre", "Nicolas", "Julien",
           "Mathilde", "Claire", "Antoine", "Elodie", "Thomas", "Margaux", "Baptiste"),
    "es": ("Sofia", "Lucia", "Martina", "Valentina", "Camila", "Isabella", "Mateo", "Santiago",
           "Diego", "Alejandro", "Pablo", "Javier", "Carlos", "Miguel", "Daniela", "Gabriela",
           "Andres", "Fernando", "Maria", "Carmen", "Ana", "Jorge", "Luis", "Elena", "Ricardo"),
    "pt": ("Miguel", "Arthur", "Heitor", "Bernardo", "Davi", "Gabriel", "Pedro", "Lucas",
           "Helena", "Alice", "Laura", "Manuela", "Valentina", "Beatriz", "Mariana", "Juliana",
           "Rafael", "Thiago", "Camila", "Fernanda", "Joao", "Larissa"),
    "it": ("Leonardo", "Francesco", "Alessandro", "Lorenzo", "Mattia", "Andrea", "Gabriele",
           "Giulia", "Sofia", "Aurora", "Alice", "Ginevra", "Chiara", "Francesca", "Marco",
           "Giuseppe", "Luca", "Paola", "Elisa", "Federica", "Matteo", "Simone"),
    "nl": ("Daan", "Sem", "Lucas", "Levi", "Finn", "Milan", "Bram", "Emma", "Julia", "Tess",
           "Sophie", "Anna", "Fenna", "Sanne", "Lotte", "Joost", "Pieter", "Maarten", "Eva",
           "Ruben"),
    "sv": ("William", "Liam", "Elias", "Hugo", "Oscar", "Lucas", "Alice", "Maja", "Elsa",
           "Astrid", "Wilma", "Ebba", "Erik", "Lars", "Karin", "Anders", "Ingrid", "Johan",
           "Sara", "Nils"),
    "pl": ("Jakub", "Antoni", "Jan", "Szymon", "Filip", "Kacper", "Zuzanna", "Julia", "Zofia",
           "Hanna", "Maja", "Lena", "Piotr", "Tomasz", "Katarzyna", "Agnieszka", "Marek",
           "Magdalena", "Pawel", "Ewa"),
    "ja": ("Haruto", "Yuto", "Sota", "Yuki", "Hinata", "Riku", "Ren", "Sakura", "Yui", "Hina",
           "Aoi", "Mio", "Rin", "Akari", "Kenji", "Takeshi", "Hiroshi", "Naoko", "Emi",
           "Daichi", "Kaito", "Miyu"),
    "hi": ("Aarav", "Vivaan", "Aditya", "Arjun", "Sai", "Reyansh", "Ananya", "Diya", "Aadhya",
           "Saanvi", "Pari", "Priya", "Rahul", "Rohan", "Neha", "Pooja", "Vikram", "Kavya",
           "Amit", "Sneha", "Karan", "Isha"),
    "ko": ("Minjun", "Seojun", "Doyun", "Jiho", "Jiwoo", "Seoyeon", "Seoyun", "Jiwon", "Hayun",
           "Minseo", "Jisoo", "Hyunwoo", "Eunji", "Sungmin", "Yuna", "Taeyang"),
    "zh": ("Wei", "Jun", "Ming", "Hao", "Jie", "Li", "Xin", "Mei", "Hui", "Ying", "Ling", "Yan",
           "Kai", "Rui", "Jia", "Zhen", "Ethan", "Rachel", "Marcus", "Joanne"),
}  # fmt: skip

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("Smith", "Jones", "Williams", "Brown", "Taylor", "Davies", "Wilson", "Evans",
           "Johnson", "Miller", "Anderson", "Thomas", "Jackson", "White", "Harris", "Martin",
           "Thompson", "Walker", "Robinson", "Clarke", "Wright", "Hughes", "Green", "Hall",
           "Wood", "Murphy", "Kelly", "Campbell", "Bennett", "Cooper"),
    "de": ("Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schwarz",
           "Zimmermann", "Braun", "Krueger", "Hartmann", "Lange", "Werner"),
    "fr": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
           "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
           "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard"),
    "es": ("Garcia", "Rodriguez", "Gonzalez", "Fernandez", "Lopez", "Martinez", "Sanchez",
           "Perez", "Gomez", "Martin", "Jimenez", "Ruiz", "Hernandez", "Diaz", "Moreno",
           "Alvarez", "Romero", "Torres", "Ramirez", "Flores", "Castro", "Vargas", "Rojas"),
    "pt": ("Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
           "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes",
           "Soares", "Fernandes", "Vieira", "Barbosa"),
    "it": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
           "Marino", "Greco", "Bruno", "Gallo", "Conti", "DeLuca", "Mancini", "Costa",
           "Giordano", "Rizzo", "Lombardi", "Moretti"),
    "nl": ("DeJong", "Jansen", "DeVries", "VanDijk", "Bakker", "Janssen", "Visser", "Smit",
           "Meijer", "DeBoer", "Mulder", "DeGroot", "Bos", "Vos", "Peters", "Hendriks",
           "Dekker", "Brouwer"),
    "sv": ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
           "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Lindberg", "Lindqvist",
           "Berg", "Holm"),
    "pl": ("Nowak", "Kowalski", "Wisniewski", "Wojcik", "Kowalczyk", "Kaminski", "Lewandowski",
           "Zielinski", "Szymanski", "Wozniak", "Dabrowski", "Kozlowski", "Jankowski", "Mazur",
           "Kwiatkowski", "Krawczyk"),
    "ja": ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
           "Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki", "Yamaguchi", "Matsumoto", "Inoue",
           "Kimura", "Hayashi", "Shimizu", "Mori"),
    "hi": ("Sharma", "Verma", "Patel", "Gupta", "Singh", "Kumar", "Reddy", "Iyer", "Nair",
           "Mehta", "Shah", "Joshi", "Rao", "Das", "Bose", "Chopra", "Malhotra", "Kapoor",
           "Agarwal", "Menon"),
    "ko": ("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han",
           "Oh", "Seo", "Shin", "Kwon", "Hwang"),
    "zh": ("Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Chua", "Chan", "Koh", "Teo", "Ang",
           "Yeo", "Chen", "Wang", "Zhang", "Liu", "Huang"),
}  # fmt: skip

EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
"""RFC 2606 reserved domains, so no address can reach a real mailbox."""

SEGMENTS = ("consumer", "loyalty_member", "business", "vip")
SEGMENT_WEIGHTS = (0.58, 0.30, 0.09, 0.03)

STORE_QUALIFIERS = ("Central", "Mall", "Station", "Riverside", "Airport", "Outlet", "North",
                    "South", "East", "West", "Harbour", "Park", "Old Town", "Plaza", "Market",
                    "Gate")  # fmt: skip

# category: (SKU code, median unit cost in USD, brands, items)
CATEGORIES: dict[str, tuple[str, float, tuple[str, ...], tuple[str, ...]]] = {
    "Electronics": ("ELC", 45.0, ("Voltix", "Aurora", "Quanta", "Nimbus"),
                    ("Wireless Earbuds", "Bluetooth Speaker", "USB-C Charger", "27in Monitor",
                     "Mechanical Keyboard", "Smartwatch", "Tablet", "Noise-Cancelling Headphones",
                     "Action Camera", "E-Reader", "Power Bank", "Webcam")),
    "Home & Kitchen": ("HOM", 28.0, ("Hearthly", "Casa Nova", "Nimbus Home", "Oakline"),
                       ("Chef Knife", "Cast Iron Pan", "Coffee Grinder", "Espresso Machine",
                        "Blender", "Duvet Cover", "Bath Towel Set", "Table Lamp", "Storage Box",
                        "Air Fryer", "Kettle", "Cutting Board")),
    "Apparel": ("APP", 18.0, ("Northpeak", "Linea", "Urban Loom", "Nimbus Wear"),
                ("Cotton T-Shirt", "Denim Jeans", "Rain Jacket", "Wool Sweater", "Running Shorts",
                 "Hoodie", "Chino Trousers", "Sneakers", "Leather Belt", "Beanie", "Polo Shirt",
                 "Down Vest")),
    "Beauty": ("BEA", 9.0, ("Lumiere", "Botanica", "Pure Dew", "Velvet"),
               ("Face Serum", "Moisturiser", "Sunscreen SPF50", "Shampoo", "Conditioner",
                "Lip Balm", "Hand Cream", "Eau de Parfum", "Face Mask", "Body Lotion")),
    "Sports & Outdoors": ("SPO", 32.0, ("Summit", "Trailhead", "Kinetic", "Nimbus Active"),
                          ("Yoga Mat", "Water Bottle", "Camping Tent", "Hiking Backpack",
                           "Dumbbell Set", "Bike Helmet", "Sleeping Bag", "Running Vest",
                           "Tennis Racket", "Foam Roller")),
    "Toys & Games": ("TOY", 14.0, ("Playwise", "Brickland", "Tiny Tales", "Nimbus Kids"),
                     ("Building Blocks", "Board Game", "Jigsaw Puzzle", "Plush Bear",
                      "RC Car", "Art Set", "Card Game", "Science Kit", "Wooden Train")),
    "Grocery": ("GRO", 3.5, ("Good Harvest", "Fieldstone", "Nimbus Pantry", "Verde"),
                ("Ground Coffee", "Green Tea", "Olive Oil", "Dark Chocolate", "Granola",
                 "Pasta", "Basmati Rice", "Peanut Butter", "Honey", "Sparkling Water")),
    "Books & Media": ("BOO", 7.0, ("Inkwell", "Paperlane", "Nimbus Press", "Meridian"),
                      ("Cookbook", "Travel Guide", "Thriller Novel", "Notebook", "Planner",
                       "Children's Book", "Vinyl Record", "Comic Book", "Photo Album")),
}  # fmt: skip

CATEGORY_WEIGHTS = (0.18, 0.16, 0.20, 0.10, 0.10, 0.08, 0.10, 0.08)
PRODUCT_VARIANTS = ("", " Mini", " Pro", " Lite", " Max", " Plus", " 2", " Eco")

CARRIERS: dict[str, tuple[str, ...]] = {
    "EU": ("DHL", "DPD", "GLS", "UPS"),
    "NA": ("UPS", "FedEx", "USPS", "Canada Post"),
    "APAC": ("DHL", "Japan Post", "Australia Post", "SF Express"),
    "LATAM": ("Correios", "Estafeta", "DHL", "FedEx"),
}

CAMPAIGN_CHANNELS = ("email", "social", "search", "display", "affiliate", "events")

# theme: (first month, probability per region in REGIONS order)
CAMPAIGN_THEMES: dict[str, tuple[int, tuple[float, float, float, float]]] = {
    "New Year Sale": (1, (0.6, 0.5, 0.3, 0.4)),
    "Lunar New Year": (2, (0.0, 0.1, 0.8, 0.0)),
    "Spring Refresh": (3, (0.5, 0.5, 0.3, 0.2)),
    "Mother's Day": (5, (0.4, 0.6, 0.3, 0.6)),
    "Summer Sale": (6, (0.7, 0.6, 0.3, 0.2)),
    "Back to School": (8, (0.5, 0.7, 0.2, 0.5)),
    "Loyalty Rewards": (9, (0.4, 0.4, 0.4, 0.4)),
    "Singles Day": (11, (0.0, 0.1, 0.8, 0.1)),
    "Black Friday": (11, (0.9, 0.9, 0.5, 0.7)),
    "Holiday Gifts": (12, (0.8, 0.8, 0.4, 0.6)),
}

DEPARTMENTS: dict[str, tuple[float, float]] = {
    # department: (share of employees, median salary in USD at labour_cost 1.0)
    "Store Operations": (0.38, 38_000.0),
    "Logistics": (0.16, 52_000.0),
    "Customer Service": (0.12, 44_000.0),
    "Engineering": (0.10, 125_000.0),
    "Sales": (0.07, 72_000.0),
    "Marketing": (0.06, 82_000.0),
    "Finance": (0.05, 88_000.0),
    "Data & Analytics": (0.03, 115_000.0),
    "People & HR": (0.03, 70_000.0),
}
