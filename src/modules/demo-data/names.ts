// Filipino-style names for a fictional country. Some carry accents (José, Niño, Peña…) so that
// accent-insensitive name search ("pena" finds "Peña") can be shown with demo data.

export const MALE_GIVEN_NAMES = [
  'José', 'Juan', 'Niño', 'Andrés', 'Ángel', 'Rafael', 'Ramón', 'Tomás', 'Efrén', 'Jesús',
  'Rogelio', 'Ernesto', 'Eduardo', 'Rodrigo', 'Renato', 'Danilo', 'Romeo', 'Ricardo', 'Emmanuel', 'Jerome',
  'Jomar', 'Arnel', 'Bayani', 'Crisanto', 'Florencio', 'Teodoro', 'Mark Anthony', 'John Paul', 'Christian', 'Joshua',
  'Reynaldo', 'Antonio', 'Roberto', 'Fernando', 'Nestor', 'Alfredo', 'Carlo', 'Paolo', 'Miguel', 'Lorenzo',
] as const;

export const FEMALE_GIVEN_NAMES = [
  'María', 'Ma. Cristina', 'Rosario', 'Lourdes', 'Maricel', 'Jocelyn', 'Analyn', 'Rowena', 'Marites', 'Liezel',
  'Kristine', 'Angelica', 'Princess', 'Jasmine', 'Mary Grace', 'Luzviminda', 'Teresita', 'Corazón', 'Remedios', 'Ligaya',
  'Dalisay', 'Mayumi', 'Tala', 'Amihan', 'Concepción', 'Felicidad', 'Imelda', 'Josefina', 'Milagros', 'Nenita',
  'Rosalinda', 'Divina', 'Evelyn', 'Gloria', 'Marilou', 'Sheila', 'Joanna', 'Camille', 'Bea', 'Nicole',
] as const;

export const FAMILY_NAMES = [
  'Peña', 'Muñoz', 'Ibáñez', 'Núñez', 'Gutiérrez', 'Fernández', 'García', 'Agustín', 'Tomás', 'Sisón',
  'Dela Cruz', 'De los Santos', 'Santos', 'Reyes', 'Cruz', 'Bautista', 'Ocampo', 'Mendoza', 'Torres', 'Castillo',
  'Flores', 'Villanueva', 'Ramos', 'Castro', 'Rivera', 'Aquino', 'Navarro', 'Salazar', 'Mercado', 'Domingo',
  'Aguilar', 'Valdez', 'Santiago', 'Soriano', 'López', 'Pascual', 'Manalo', 'Magbanua', 'Dimaculangan', 'Macaraeg',
  'Lacson', 'Tolentino', 'Samonte', 'Gonzales', 'Del Rosario', 'Marquez', 'Hernandez', 'Lim', 'Tan', 'Sy',
  'Panganiban', 'Mangubat', 'Dizon', 'Buenaventura', 'Evangelista', 'Galang', 'Lualhati', 'Manalastas', 'Quiambao', 'Yap',
] as const;
